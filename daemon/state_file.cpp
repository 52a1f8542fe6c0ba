#include "daemon/state_file.hpp"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "lib/error.hpp"
#include "lib/fd.hpp"

namespace vepad {

using nlohmann::json;

namespace {

// The journal is folded once it is larger than the snapshot and than this:
// small tables are not rewritten every few commands.
constexpr uint64_t kMinFold = 1 << 20;

std::optional<std::string> read_text(const std::string& path)
{
    std::ifstream in(path);
    if (!in) {
        if (errno == ENOENT)
            return std::nullopt;
        throw vepa::SysError(errno, "state file " + path);
    }
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

json parse(const std::string& text, const std::string& path)
{
    try {
        return json::parse(text);
    } catch (const json::parse_error& e) {
        throw vepa::Error("state file " + path + " is corrupt (" + e.what() +
                          "); vepad will not replace it: repair or remove it, then start vepad again");
    }
}

// The committed part of a journal: up to its last newline.
size_t committed(const std::string& journal)
{
    const size_t nl = journal.rfind('\n');
    return nl == std::string::npos ? 0 : nl + 1;
}

// One journal line's change applied to the ports by name.
void apply_change(const json& change, std::map<std::string, json>& ports, const std::string& origin)
{
    const auto bad = [&] { return vepa::Error("state file " + origin + " has a malformed change: " + change.dump()); };
    if (!change.is_object() || !change.contains("ports") || !change["ports"].is_array() ||
        !change.contains("deleted") || !change["deleted"].is_array())
        throw bad();
    for (const auto& name : change["deleted"]) {
        if (!name.is_string())
            throw bad();
        ports.erase(name.get<std::string>());
    }
    for (const auto& p : change["ports"]) {
        if (!p.is_object() || !p.contains("name") || !p["name"].is_string())
            throw bad();
        const std::string name = p["name"];
        ports[name] = p;
    }
}

void fsync_dir(const std::filesystem::path& dir)
{
    vepa::UniqueFd dfd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (dfd)
        ::fsync(dfd.get());
}

std::filesystem::path dir_of(const std::string& path)
{
    const std::filesystem::path p = std::filesystem::path(path).parent_path();
    return p.empty() ? std::filesystem::path(".") : p;
}

// Write all of text at fd; returns 0 or an errno.
int write_all(int fd, const std::string& text)
{
    size_t off = 0;
    while (off < text.size()) {
        const ssize_t n = ::write(fd, text.data() + off, text.size() - off);
        if (n < 0 && errno != EINTR)
            return errno;
        off += n < 0 ? 0 : static_cast<size_t>(n);
    }
    return 0;
}

// path replaced by text: temp file, fsync, rename, fsync of the directory.
void replace_file(const std::string& path, const std::string& text)
{
    const std::filesystem::path dir = dir_of(path);
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    const std::string tmp = path + ".tmp." + std::to_string(::getpid());
    auto fail = [&](int err, const std::string& what) {
        ::unlink(tmp.c_str());
        throw vepa::SysError(err, what + " " + tmp + " (state file " + path + " unchanged)");
    };
    {
        vepa::UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640));
        if (!fd)
            fail(errno, "create");
        if (const int err = write_all(fd.get(), text))
            fail(err, "write");
        if (::fsync(fd.get()) != 0)
            fail(errno, "fsync");
    }
    if (::rename(tmp.c_str(), path.c_str()) != 0)
        fail(errno, "rename");
    fsync_dir(dir);
}

} // namespace

std::optional<json> apply_journal(std::optional<json> snapshot, const std::string& journal, const std::string& origin)
{
    const size_t end = committed(journal);
    if (end == 0)
        return snapshot;
    json table = snapshot ? std::move(*snapshot) : json{{"format", 1}, {"ports", json::array()}};
    if (!table.is_object() || !table.contains("ports") || !table["ports"].is_array())
        return table; // PortTable::from_json says what is wrong with it
    std::map<std::string, json> ports;
    json unnamed = json::array(); // left for PortTable::from_json to refuse
    for (auto& p : table["ports"]) {
        if (!p.is_object() || !p.contains("name") || !p["name"].is_string()) {
            unnamed.push_back(std::move(p));
            continue;
        }
        const std::string name = p["name"];
        ports[name] = std::move(p);
    }
    std::istringstream lines(journal.substr(0, end));
    for (std::string line; std::getline(lines, line);)
        apply_change(parse(line, origin), ports, origin);
    for (auto& [name, p] : ports)
        unnamed.push_back(std::move(p));
    table["ports"] = std::move(unnamed);
    return table;
}

std::optional<json> StateFile::load()
{
    const auto snapshot = read_text(path_);
    const auto journal = read_text(journal_path()).value_or("");
    snapshot_bytes_ = snapshot ? snapshot->size() : 0;
    journal_end_ = committed(journal);
    if (!snapshot && journal.empty())
        return std::nullopt;
    if (journal_end_ != journal.size())
        spdlog::warn("state file {}: an unfinished change at its end (vepad stopped while writing it) is ignored",
                     journal_path());
    return apply_journal(snapshot ? std::optional(parse(*snapshot, path_)) : std::nullopt, journal,
                         journal_path());
}

uint64_t StateFile::journal_end()
{
    if (!journal_end_)
        journal_end_ = committed(read_text(journal_path()).value_or(""));
    return *journal_end_;
}

void StateFile::append(const std::string& line)
{
    const std::string jpath = journal_path();
    const uint64_t end = journal_end();
    int flags = O_WRONLY | O_APPEND | O_CLOEXEC;
    vepa::UniqueFd fd(::open(jpath.c_str(), flags));
    const bool created = !fd && errno == ENOENT;
    if (created) {
        std::error_code ec; // the state directory too, as replace_file makes it: a first change may come first
        std::filesystem::create_directories(dir_of(jpath), ec);
        fd.reset(::open(jpath.c_str(), flags | O_CREAT | O_EXCL, 0640));
    }
    if (!fd)
        throw vepa::SysError(errno, "open " + jpath + " (port table on disk unchanged)");
    auto fail = [&](int err, const std::string& what) {
        if (::ftruncate(fd.get(), static_cast<off_t>(end)) != 0) // a partial line is no change, but cut it now
            spdlog::warn("state file {}: cannot cut off a failed write: {}", jpath, std::strerror(errno));
        throw vepa::SysError(err, what + " " + jpath + " (port table on disk unchanged)");
    };
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0)
        fail(errno, "stat");
    if (static_cast<uint64_t>(st.st_size) != end && ::ftruncate(fd.get(), static_cast<off_t>(end)) != 0)
        fail(errno, "cut the unfinished change off"); // a crash's leftover
    if (const int err = write_all(fd.get(), line))
        fail(err, "write");
    if (::fdatasync(fd.get()) != 0)
        fail(errno, "fdatasync");
    if (created)
        fsync_dir(dir_of(jpath));
    journal_end_ = end + line.size();
}

void StateFile::save(const json& table)
{
    const std::string text = table.dump(2) + "\n";
    replace_file(path_, text);
    snapshot_bytes_ = text.size();
    // The snapshot holds every change the journal does: a crash before the
    // journal goes replays it onto the snapshot, which changes nothing (each
    // port's last change in the journal is its state in the snapshot).
    if (::unlink(journal_path().c_str()) != 0 && errno != ENOENT)
        throw vepa::SysError(errno, "remove " + journal_path());
    fsync_dir(dir_of(path_));
    journal_end_ = 0;
}

void StateFile::save_change(const json& change, const std::function<json()>& table)
{
    append(change.dump() + "\n");
    if (!snapshot_bytes_) {
        std::error_code ec;
        const auto size = std::filesystem::file_size(path_, ec);
        snapshot_bytes_ = ec ? 0 : size;
    }
    if (*journal_end_ > std::max(*snapshot_bytes_, kMinFold))
        fold(table);
}

void StateFile::fold(const std::function<json()>& table)
{
    if (journal_end() == 0)
        return;
    try {
        save(table());
    } catch (const std::exception& e) {
        // The change is committed in the journal; folding is tried again later.
        spdlog::warn("state file {}: folding the journal into it failed: {}", path_, e.what());
    }
}

} // namespace vepad
