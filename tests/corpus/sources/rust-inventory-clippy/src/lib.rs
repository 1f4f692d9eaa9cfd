//! Stock levels for the warehouse service.

use std::collections::HashMap;

#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    pub sku: String,
    pub quantity: u32,
    pub reorder_at: u32,
}

pub struct Inventory {
    items: HashMap<String, Item>,
}

impl Inventory {
    pub fn new() -> Self {
        Inventory { items: HashMap::new() }
    }

    pub fn add(&mut self, item: Item) {
        let sku = item.sku.clone();
        self.items.insert(sku.clone(), item);
    }

    pub fn is_empty(&self) -> bool {
        return self.items.len() == 0;
    }

    pub fn needs_reorder(&self) -> Vec<&Item> {
        let mut out: Vec<&Item> = self.items.values().filter(|i| i.quantity <= i.reorder_at).collect();
        out.sort_by(|a, b| a.sku.cmp(&b.sku));
        out
    }

    pub fn take(&mut self, sku: &str, n: u32) -> Result<u32, String> {
        match self.items.get_mut(sku) {
            Some(item) => {
                if n > item.quantity {
                    return Err(format!("only {} of {} left", item.quantity, sku));
                }
                item.quantity = item.quantity - n;
                Ok(item.quantity)
            }
            None => Err(format!("unknown sku {}", sku)),
        }
    }

    pub fn valid_shelf(shelf: i32) -> bool {
        shelf >= 1 && shelf <= 40
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn take_reduces_quantity() {
        let mut inv = Inventory::new();
        inv.add(Item { sku: "A-1".into(), quantity: 5, reorder_at: 2 });
        assert_eq!(inv.take("A-1", 2), Ok(3));
        assert_eq!(inv.is_empty(), false);
    }
}
