// The store of a data directory, behind the Store interface (for tools).
#include "store/sqlite.h"
#include "store/store.h"

namespace ddns::store {

Result<std::unique_ptr<Store>> open_data_dir(const std::string& data_dir, bool read_only) {
  SqliteOptions opt;
  opt.read_only = read_only;
  auto s = SqliteStore::open(SqliteStore::default_path(data_dir), opt);
  if (!s) return s.error();
  return std::unique_ptr<Store>(std::move(*s));
}

}  // namespace ddns::store
