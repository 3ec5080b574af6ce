// A growable sequence stored in fixed-size blocks, for the GUI's per-task tables. Growing it
// never moves an element: a plain std::vector of 100,000 rows re-allocates and moves every row
// each time it doubles, and on this machine kind that (with the page faults of the new
// buffer) stalled the GUI thread for 50-100 ms in the middle of a big map. Elements are
// addressed by index like a vector; erasing shifts the tail down (as vector::erase does).
#pragma once

#include <cstddef>
#include <iterator>
#include <memory>
#include <utility>
#include <vector>

namespace taskbench::gui {

template <typename T, std::size_t BlockSize = 4096>
class ChunkedVector
{
public:
    template <typename Owner, typename Ref>
    class Iterator
    {
    public:
        using iterator_category = std::random_access_iterator_tag;
        using value_type = T;
        using difference_type = std::ptrdiff_t;
        using reference = Ref;
        using pointer = std::remove_reference_t<Ref> *;

        Iterator() = default;
        Iterator(Owner *owner, std::size_t i)
            : m_owner(owner)
            , m_i(i)
        {}
        reference operator*() const { return (*m_owner)[m_i]; }
        pointer operator->() const { return &(*m_owner)[m_i]; }
        Iterator &operator++()
        {
            ++m_i;
            return *this;
        }
        Iterator &operator--()
        {
            --m_i;
            return *this;
        }
        Iterator &operator+=(difference_type n)
        {
            m_i = std::size_t(difference_type(m_i) + n);
            return *this;
        }
        Iterator operator+(difference_type n) const
        {
            return Iterator(m_owner, std::size_t(difference_type(m_i) + n));
        }
        difference_type operator-(const Iterator &o) const
        {
            return difference_type(m_i) - difference_type(o.m_i);
        }
        bool operator==(const Iterator &o) const { return m_i == o.m_i; }
        bool operator!=(const Iterator &o) const { return m_i != o.m_i; }
        bool operator<(const Iterator &o) const { return m_i < o.m_i; }

    private:
        Owner *m_owner = nullptr;
        std::size_t m_i = 0;
    };
    using iterator = Iterator<ChunkedVector, T &>;
    using const_iterator = Iterator<const ChunkedVector, const T &>;

    std::size_t size() const { return m_size; }
    bool empty() const { return m_size == 0; }
    T &operator[](std::size_t i) { return m_blocks[i / BlockSize][i % BlockSize]; }
    const T &operator[](std::size_t i) const { return m_blocks[i / BlockSize][i % BlockSize]; }
    T &back() { return (*this)[m_size - 1]; }
    const T &back() const { return (*this)[m_size - 1]; }

    void push_back(T value)
    {
        if (m_size / BlockSize == m_blocks.size()) {
            m_blocks.emplace_back();
            m_blocks.back().reserve(BlockSize); // never grows past this: no moves
        }
        m_blocks[m_size / BlockSize].push_back(std::move(value));
        ++m_size;
    }
    /// Inserts before index i, shifting the tail up (as vector::insert does).
    void insert(std::size_t i, T value)
    {
        push_back(std::move(value));
        for (std::size_t j = m_size - 1; j > i; --j)
            std::swap((*this)[j], (*this)[j - 1]);
    }
    /// Grows with copies of `value`, or shrinks, to n elements.
    void resize(std::size_t n, const T &value = T())
    {
        while (m_size < n)
            push_back(value);
        while (m_size > n)
            pop_back();
    }
    void pop_back()
    {
        --m_size;
        m_blocks[m_size / BlockSize].pop_back();
        if (m_blocks.back().empty())
            m_blocks.pop_back();
    }
    /// Removes [first, last) and shifts the elements after it down.
    void erase(std::size_t first, std::size_t last)
    {
        if (first >= last)
            return;
        std::move(begin() + std::ptrdiff_t(last), end(), begin() + std::ptrdiff_t(first));
        for (std::size_t n = last - first; n > 0; --n)
            pop_back();
    }
    void clear()
    {
        m_blocks.clear();
        m_size = 0;
    }

    iterator begin() { return iterator(this, 0); }
    iterator end() { return iterator(this, m_size); }
    const_iterator begin() const { return const_iterator(this, 0); }
    const_iterator end() const { return const_iterator(this, m_size); }

private:
    std::vector<std::vector<T>> m_blocks;
    std::size_t m_size = 0;
};

} // namespace taskbench::gui
