// access_log: where the JSON access log goes and which fields it has.
#include "app/config_reader.h"

#include "observe/access_log.h"

namespace sg::app {

void read_access_log(Reader& r, const YAML::Node& al, Config& cfg) {
  if (r.mapping(al, "access_log", {"path", "fields"})) {
    cfg.access_log.enabled = true;
    if (al["path"]) r.scalar(al["path"], "path", cfg.access_log.path);
    if (const YAML::Node fields = al["fields"]) {
      if (!fields.IsSequence() || fields.size() == 0) {
        r.error(fields, "access_log.fields must be a non-empty list of field names");
      } else {
        cfg.access_log.fields = 0;
        for (const auto& f : fields) {
          std::string name;
          observe::AccessField field;
          if (!r.scalar(f, "field", name)) continue;
          if (!observe::parse_access_field(name, field)) {
            r.error(f, "unknown access_log field '" + name + "'");
            continue;
          }
          cfg.access_log.fields |= 1u << static_cast<unsigned>(field);
        }
      }
    }
  }
}

}  // namespace sg::app
