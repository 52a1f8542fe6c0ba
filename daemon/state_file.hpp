// The port table on disk: one JSON file, replaced atomically (temp file,
// fsync, rename, fsync of the directory), so a crash or a full disk leaves
// the previous version intact.
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace vepad {

class StateFile {
public:
    explicit StateFile(std::string path) : path_(std::move(path)) {}
    const std::string& path() const { return path_; }

    // nullopt when the file does not exist.  Throws vepa::Error naming the file
    // when it cannot be read or is not valid JSON (never replaces it).
    std::optional<nlohmann::json> load() const;

    // Throws vepa::SysError (e.g. ENOSPC) with the file untouched on failure.
    void save(const nlohmann::json& j) const;

private:
    std::string path_;
};

} // namespace vepad
