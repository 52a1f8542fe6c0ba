// Golden-frame and randomized tests of the BPF programs.  Root only: they load
// BPF programs and build veth/tap devices in a private network namespace that
// disappears with the process.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include "lib/attach.hpp"
#include "tests/support/netns.hpp"

int main(int argc, char** argv)
{
    vepa::test::require_root_or_skip("dataplane tests");
    vepa::test::enter_private_netns();
    vepa::set_bpf_log(nullptr);
    return Catch::Session().run(argc, argv);
}
