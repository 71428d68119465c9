// Opens the configured store, and its change feed when the store is shared with other
// routers. The one place that knows which store types exist: a new type is a new branch here,
// its Store and ChangeFeed implementations, and its settings struct (store_config.h).
#pragma once

#include <memory>
#include <string>

#include "registry/change_feed.h"
#include "registry/store.h"
#include "registry/store_config.h"

namespace sg::registry {

struct OpenedStore {
  std::unique_ptr<Store> store;
  std::string description;  // for the startup log
  bool shared = false;      // other routers write it too: changes arrive through a feed
};

// False with `error` set when the store cannot be used (a SQLite file that cannot be opened
// or migrated). A shared store that does not answer yet is not an error: it is retried.
bool open_store(const StoreConfig& c, OpenedStore& out, std::string& error);

// The feed of a shared store (null for a store only this router writes); `store` is the one
// open_store opened (a DynamoDB feed shares its clock and its record of routes in use).
std::unique_ptr<ChangeFeed> open_feed(const StoreConfig& c, Store& store,
                                      ChangeFeed::Handlers handlers);

}  // namespace sg::registry
