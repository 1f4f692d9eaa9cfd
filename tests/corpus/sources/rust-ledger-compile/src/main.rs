mod account;
mod parse;

use account::Account;

fn main() {
    let input = std::env::args().nth(1).unwrap_or_else(|| "ledger.txt".to_string());
    let text = std::fs::read_to_string(&input).unwrap_or_default();
    let mut accounts: Vec<Account> = Vec::new();
    for (lineno, line) in text.lines().enumerate() {
        match parse::entry(line) {
            Ok(entry) => {
                let acct = account::find_or_create(&mut accounts, &entry.account);
                acct.post(entry.amount_cents);
            }
            Err(e) => eprintln!("{}:{}: {}", input, lineno + 1, e),
        }
    }
    for acct in &accounts {
        println!("{:<20} {:>12}", acct.name, account::format_cents(acct.balance));
    }
}
