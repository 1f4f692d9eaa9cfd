/// Turn a title into a URL slug: lowercase ASCII words joined by '-'.
pub fn slugify(title: &str) -> String {
    let mut out = String::new();
    let mut dash = false;
    for ch in title.chars() {
        if ch.is_ascii_alphanumeric() {
            if dash && !out.is_empty() {
                out.push('-');
            }
            dash = false;
            out.push(ch.to_ascii_lowercase());
        } else if ch == '\'' {
            continue;
        } else {
            dash = true;
        }
    }
    out
}
