#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "daemon/state_file.hpp"
#include "lib/error.hpp"

using namespace vepad;
using nlohmann::json;

namespace {

struct TempDir {
    std::string path;
    TempDir()
    {
        char d[] = "/tmp/vepad-state-XXXXXX";
        REQUIRE(mkdtemp(d));
        path = d;
    }
    ~TempDir() { std::system(("rm -rf " + path).c_str()); }
};

json entry(const char* name, int slot) { return {{"name", name}, {"slot", slot}, {"macs", json::array()}}; }

json table(std::vector<json> ports) { return {{"format", 1}, {"uplink", "eth0"}, {"ports", ports}}; }

json change(std::vector<json> ports, std::vector<std::string> deleted = {})
{
    return {{"ports", ports}, {"deleted", deleted}};
}

std::string read(const std::string& path)
{
    std::stringstream ss;
    ss << std::ifstream(path).rdbuf();
    return ss.str();
}

bool exists(const std::string& path) { return ::access(path.c_str(), F_OK) == 0; }

// The ports' names in a table, in its order.
std::vector<std::string> names(const json& t)
{
    std::vector<std::string> out;
    for (const auto& p : t["ports"])
        out.push_back(p["name"]);
    return out;
}

} // namespace

TEST_CASE("state file: a change is one journal line; the table is the snapshot with the journal applied")
{
    TempDir d;
    StateFile f(d.path + "/ports-eth0.json");
    CHECK_FALSE(f.load());
    json now = table({entry("a", 1)});
    auto whole = [&] { return now; };
    f.save_change(change({entry("a", 1)}), whole);
    CHECK_FALSE(exists(f.path())); // no snapshot written for a small change
    CHECK(read(f.journal_path()) == change({entry("a", 1)}).dump() + "\n");
    CHECK(names(*StateFile(f.path()).load()) == std::vector<std::string>{"a"});
    now = table({entry("b", 2)});
    f.save_change(change({entry("b", 2)}, {"a"}), whole);
    CHECK(names(*StateFile(f.path()).load()) == std::vector<std::string>{"b"});
    // Folded (at a clean stop): the snapshot holds the table, the journal is gone.
    f.fold(whole);
    CHECK_FALSE(exists(f.journal_path()));
    CHECK(json::parse(read(f.path())) == now);
    CHECK(*StateFile(f.path()).load() == now);
    f.fold([]() -> json { FAIL("nothing to fold"); return {}; });
}

TEST_CASE("state file: an older vepad's file (a snapshot, no journal) reads as it is, changes go on top")
{
    TempDir d;
    const std::string path = d.path + "/ports-eth0.json";
    const json old = table({entry("a", 1), entry("b", 2)});
    std::ofstream(path) << old.dump(2) << "\n";
    StateFile f(path);
    CHECK(*f.load() == old);
    json now = table({entry("a", 1), entry("c", 3)});
    f.save_change(change({entry("c", 3)}, {"b"}), [&] { return now; });
    CHECK(read(path) == old.dump(2) + "\n"); // the snapshot is not rewritten for one change
    CHECK(names(*StateFile(path).load()) == std::vector<std::string>{"a", "c"});
}

TEST_CASE("state file: an unfinished last line is no change: ignored, cut off by the next write")
{
    TempDir d;
    StateFile f(d.path + "/ports-eth0.json");
    auto whole = [] { return json(); };
    f.save_change(change({entry("a", 1)}), whole);
    std::ofstream(f.journal_path(), std::ios::app) << "{\"ports\": [{\"name\": \"torn";
    StateFile again(f.path());
    CHECK(names(*again.load()) == std::vector<std::string>{"a"});
    again.save_change(change({entry("c", 3)}), whole);
    CHECK(names(*StateFile(f.path()).load()) == std::vector<std::string>{"a", "c"});
    CHECK(read(f.journal_path()).find("torn") == std::string::npos);
}

TEST_CASE("state file: a corrupt snapshot or journal line is refused by name, never replaced")
{
    TempDir d;
    const std::string path = d.path + "/ports-eth0.json";
    std::ofstream(path) << "{\"format\": 1, \"po";
    CHECK_THROWS_WITH(StateFile(path).load(), Catch::Contains(path) && Catch::Contains("corrupt"));
    CHECK(read(path) == "{\"format\": 1, \"po");
    std::ofstream(path) << table({}).dump();
    std::ofstream(path + ".journal") << "{\"ports\": 1}\n";
    CHECK_THROWS_WITH(StateFile(path).load(), Catch::Contains(path + ".journal") && Catch::Contains("malformed"));
    std::ofstream(path + ".journal") << "not json\n" << change({entry("a", 1)}).dump() << "\n";
    CHECK_THROWS_WITH(StateFile(path).load(), Catch::Contains("corrupt"));
}

TEST_CASE("state file: apply_journal puts and deletes by name; entries without a name are left to the table's check")
{
    const json snap = table({entry("a", 1), json{{"slot", 5}}, entry("b", 2)});
    const std::string j = change({entry("c", 3), entry("a", 4)}, {"b"}).dump() + "\n" +
                          change({}, {"c", "nonesuch"}).dump() + "\n";
    const json t = *apply_journal(snap, j, "j");
    CHECK(t["uplink"] == "eth0");
    REQUIRE(t["ports"].size() == 2);
    CHECK(t["ports"][0] == json{{"slot", 5}});
    CHECK(t["ports"][1] == entry("a", 4));
    CHECK(apply_journal(std::nullopt, "", "j") == std::nullopt);
    CHECK(names(*apply_journal(std::nullopt, change({entry("x", 1)}).dump() + "\n", "j")) ==
          std::vector<std::string>{"x"});
}

TEST_CASE("state file: the journal is folded into the snapshot once it outgrows it")
{
    TempDir d;
    StateFile f(d.path + "/ports-eth0.json");
    json big = table({});
    big["ports"].push_back(entry("a", 1));
    big["ports"][0]["macs"] = std::string(700 * 1024, 'x'); // a change of 700 KiB
    f.save_change(change({big["ports"][0]}), [&] { return big; });
    CHECK(exists(f.journal_path()));
    f.save_change(change({big["ports"][0]}), [&] { return big; }); // 1.4 MiB: past 1 MiB and the snapshot
    CHECK_FALSE(exists(f.journal_path()));
    CHECK(*StateFile(f.path()).load() == big);
}

TEST_CASE("state file: an unwritable directory refuses the change and leaves the table as it was")
{
    if (geteuid() == 0)
        return; // root writes anyway
    TempDir d;
    StateFile f(d.path + "/ports-eth0.json");
    ::chmod(d.path.c_str(), 0500);
    CHECK_THROWS_AS(f.save_change(change({entry("a", 1)}), [] { return json(); }), vepa::SysError);
    ::chmod(d.path.c_str(), 0700);
    CHECK_FALSE(StateFile(f.path()).load());
}

TEST_CASE("state file: the first change after a start with no state directory makes it")
{
    TempDir d;
    const std::string path = d.path + "/not-yet/ports-eth0.json";
    StateFile s(path);
    CHECK_FALSE(s.load());
    s.save_change(change({entry("a", 1)}), [] { return table({entry("a", 1)}); });
    const auto t = StateFile(path).load();
    REQUIRE(t);
    CHECK((*t)["ports"].size() == 1);
}
