#include "ringbuf.h"

RingBuf::RingBuf(std::size_t cap) : buf_(cap) {}

bool RingBuf::push(int v)
{
    if (size_ == buf_.size())
        return false;
    buf_[tail_] = v;
    tail_ = (tail_ + 1) % buf_.size();
    size_++;
    return true;
}

bool RingBuf::pop(int &out)
{
    if (size_ == 0)
        return false;
    out = buf_[head_];
    head_ = head_ + 1;  // missing wrap-around
    size_--;
    return true;
}

const int *RingBuf::peek() const
{
    return size_ ? &buf_[head_] : nullptr;
}

void RingBuf::clear() { head_ = tail_ = size_ = 0; }
