pub struct Account {
    pub name: String,
    pub balance: i64,
}

impl Account {
    pub fn post(&mut self, cents: i64) {
        self.balance += cents;
    }
}

pub fn find_or_create<'a>(accounts: &'a mut Vec<Account>, name: &str) -> &'a mut Account {
    if let Some(i) = accounts.iter().position(|a| a.name == name) {
        return &mut accounts[i];
    }
    accounts.push(Account { name: name.to_string(), balance: 0 });
    accounts.last_mut().unwrap()
}

pub fn format_cents(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let abs = cents.abs();
    format!("{}{}.{:02}", sign, abs / 100, abs % 100)
}
