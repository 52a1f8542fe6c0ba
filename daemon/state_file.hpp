// The port table on disk, written in O(change) per command: a snapshot of the
// whole table (PATH, JSON, replaced atomically: temp file, fsync, rename, fsync
// of the directory) and a journal of the changes since (PATH.journal, one JSON
// line per committed change, appended and fdatasync'ed).  The journal is folded
// into a new snapshot once it outgrows the snapshot (amortized O(change)) and
// at a clean stop.  A line is committed once its newline is on disk: a crash
// in an append leaves an unterminated tail, which is no committed change,
// ignored and cut off by the next append.  A file of an older vepad (a
// snapshot, no journal) reads as before; an older vepad reads the snapshot
// only, which holds everything after a clean stop.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace vepad {

class StateFile {
public:
    explicit StateFile(std::string path) : path_(std::move(path)) {}
    const std::string& path() const { return path_; }
    std::string journal_path() const { return path_ + ".journal"; }

    // The table: the snapshot with the journal's changes applied; nullopt when
    // there is neither.  Throws vepa::Error naming the file when one cannot be
    // read or is not valid JSON (never replaces it).
    std::optional<nlohmann::json> load();

    // Persist one change, {"ports": [entries as they are now], "deleted": [names]};
    // `table` makes the whole table when the journal is due to be folded.  Throws
    // vepa::SysError with the table on disk unchanged on failure.
    void save_change(const nlohmann::json& change, const std::function<nlohmann::json()>& table);

    // At a clean stop: the journal folded into the snapshot, if it holds anything.
    void fold(const std::function<nlohmann::json()>& table);

private:
    void append(const std::string& line);
    // Replace the snapshot by `table` (the snapshot with the journal applied) and
    // remove the journal; throws vepa::SysError with the snapshot untouched on failure.
    void save(const nlohmann::json& table);
    uint64_t journal_end();

    std::string path_;
    std::optional<uint64_t> snapshot_bytes_; // unknown until read or written
    std::optional<uint64_t> journal_end_;    // the committed lines' length
};

// The table `snapshot` (nullopt: none) with the journal's committed lines applied;
// throws vepa::Error naming `origin` on a malformed line.  Pure: unit-tested.
std::optional<nlohmann::json> apply_journal(std::optional<nlohmann::json> snapshot, const std::string& journal,
                                            const std::string& origin);

} // namespace vepad
