// One page of a sorted listing without sorting the rest.
#pragma once

#include <algorithm>
#include <cstddef>
#include <vector>

namespace sg {

// Leaves rows [first, last) exactly as a full sort by `less` would place them (the rest in no
// particular order). Two selections and a sort of the page cost linear time, so a deep page of
// a large listing is as cheap as the first; a partial sort up to the page grows with its depth.
template <typename T, typename Less>
void order_page(std::vector<T>& rows, size_t first, size_t last, Less less) {
  last = std::min(last, rows.size());
  first = std::min(first, last);
  const auto b = rows.begin();
  const auto f = b + static_cast<std::ptrdiff_t>(first);
  const auto l = b + static_cast<std::ptrdiff_t>(last);
  if (first > 0) std::nth_element(b, f, rows.end(), less);
  if (last < rows.size()) std::nth_element(f, l, rows.end(), less);
  std::sort(f, l, less);
}

}  // namespace sg
