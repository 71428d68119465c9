#include "common/order_page.h"

#include <gtest/gtest.h>

#include <random>

namespace sg {
namespace {

TEST(OrderPage, EveryPageMatchesTheFullSort) {
  std::mt19937 rng(7);
  for (size_t n : {0u, 1u, 2u, 9u, 50u, 1000u}) {
    std::vector<int> rows(n);
    for (int& v : rows) v = static_cast<int>(rng() % 40);  // duplicates on purpose
    std::vector<int> sorted = rows;
    std::sort(sorted.begin(), sorted.end());
    for (size_t size : {1u, 7u, 50u}) {
      for (size_t first = 0; first <= n + size; first += size) {
        std::vector<int> page = rows;
        order_page(page, first, first + size, std::less<int>());
        const size_t a = std::min(first, n), b = std::min(first + size, n);
        ASSERT_TRUE(std::equal(page.begin() + a, page.begin() + b, sorted.begin() + a))
            << "n=" << n << " first=" << first << " size=" << size;
        std::sort(page.begin(), page.end());
        ASSERT_EQ(page, sorted) << "rows are only reordered";
      }
    }
  }
}

}  // namespace
}  // namespace sg
