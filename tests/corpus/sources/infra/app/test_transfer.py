import threading
import time
import unittest


class Account:
    def __init__(self, balance: int) -> None:
        self.balance = balance
        self.lock = threading.Lock()


def transfer(src: Account, dst: Account, amount: int) -> None:
    with src.lock:
        time.sleep(0.01)
        with dst.lock:
            src.balance -= amount
            dst.balance += amount


class TransferTests(unittest.TestCase):
    def test_single_transfer(self):
        a, b = Account(100), Account(0)
        transfer(a, b, 30)
        self.assertEqual((a.balance, b.balance), (70, 30))

    def test_transfers_both_ways(self):
        # two threads lock the accounts in opposite order: a lock-order deadlock
        a, b = Account(100), Account(100)
        t1 = threading.Thread(target=transfer, args=(a, b, 10))
        t2 = threading.Thread(target=transfer, args=(b, a, 20))
        t1.start()
        t2.start()
        t1.join()
        t2.join()
        self.assertEqual(a.balance + b.balance, 200)


def _bulk(i):
    def test(self):
        a, b = Account(1000), Account(0)
        transfer(a, b, i)
        self.assertEqual(b.balance, i)

    return test


for _i in range(1, 40):
    setattr(TransferTests, f"test_amount_{_i:02d}", _bulk(_i))
