#pragma once
#include <cstddef>
#include <vector>

class RingBuf {
public:
    explicit RingBuf(std::size_t cap);
    bool push(int v);
    bool pop(int &out);
    const int *peek() const;
    std::size_t size() const { return size_; }
    std::size_t capacity() const { return buf_.size(); }
    void clear();
private:
    std::vector<int> buf_;
    std::size_t head_ = 0, tail_ = 0, size_ = 0;
};
