// pages: HTML templates for the router's own pages, by page name.
#include "app/config_reader.h"

#include <filesystem>
#include <fstream>
#include <sstream>

namespace sg::app {

void read_pages(Reader& r, const YAML::Node& pg, Config& cfg) {
  if (!pg.IsMap()) {
    r.error(pg, "pages must map page names to HTML template files");
  } else {
    for (auto it = pg.begin(); it != pg.end(); ++it) {
      std::string name = it->first.Scalar();
      std::string file;
      if (!r.scalar(it->second, name, file)) continue;
      // Relative paths are relative to the configuration file.
      std::filesystem::path path(file);
      if (path.is_relative()) path = std::filesystem::path(cfg.path).parent_path() / path;
      std::ifstream in(path);
      if (!in) {
        r.error(it->second, "pages." + name + ": cannot read " + path.string());
        continue;
      }
      std::stringstream ss;
      ss << in.rdbuf();
      cfg.pages[name] = ss.str();
    }
  }
}

}  // namespace sg::app
