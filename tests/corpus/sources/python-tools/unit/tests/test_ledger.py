import unittest

from inventory import Ledger


class ReceiveTests(unittest.TestCase):
    def test_receive_many(self):
        for n in range(1, 60):
            with self.subTest(n=n):
                ledger = Ledger()
                ledger.receive("A", n)
                self.assertEqual(ledger.on_hand("A"), n)

    def test_ship_after_receive(self):
        ledger = Ledger()
        ledger.receive("A", 5)
        ledger.ship("A", 3)
        self.assertEqual(ledger.on_hand("A"), 2)

    def test_ship_too_much(self):
        ledger = Ledger()
        with self.assertRaises(ValueError):
            ledger.ship("A", 1)


class ReportTests(unittest.TestCase):
    def test_report_lists_stock(self):
        ledger = Ledger()
        ledger.receive("B", 2)
        ledger.receive("A", 1)
        self.assertEqual(ledger.report(), ["A: 1", "B: 2"])

    def test_report_hides_empty(self):
        ledger = Ledger()
        ledger.receive("A", 1)
        ledger.ship("A", 1)
        ledger.receive("C", 4)
        self.assertEqual(ledger.report(), ["A: 0", "C: 4"])

    def test_valuation_uses_prices(self):
        ledger = Ledger()
        ledger.receive("A", 2)
        ledger.receive("Z", 1)
        self.assertEqual(ledger.valuation({"A": 150}), 300)


def _make_case(index):
    def test(self):
        ledger = Ledger()
        ledger.receive(f"SKU{index}", index + 1)
        self.assertEqual(ledger.on_hand(f"SKU{index}"), index + 1)

    return test


class BulkTests(unittest.TestCase):
    pass


for _i in range(1400):
    setattr(BulkTests, f"test_bulk_{_i:03d}", _make_case(_i))
