#include <gtest/gtest.h>

#include "wire/addr.hpp"

using namespace ustack::wire;

TEST(Ipv4Addr, ParsesDottedQuad) {
    auto a = Ipv4Addr::parse("10.77.0.2");
    ASSERT_TRUE(a);
    EXPECT_EQ(a->value, 0x0a4d0002u);
    EXPECT_EQ(a->to_string(), "10.77.0.2");
}

TEST(Ipv4Addr, RejectsMalformed) {
    for (const char* bad : {"", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1..2.3", "a.b.c.d", "1.2.3.4 ",
                            "01234.1.1.1", "-1.2.3.4"})
        EXPECT_FALSE(Ipv4Addr::parse(bad)) << bad;
}

TEST(Ipv4Cidr, ParsesPrefixAndMasks) {
    auto c = Ipv4Cidr::parse("10.77.0.2/24");
    ASSERT_TRUE(c);
    EXPECT_EQ(c->prefix_len, 24);
    EXPECT_EQ(c->mask(), 0xffffff00u);
    EXPECT_EQ(c->network(), Ipv4Addr(10, 77, 0, 0));
    EXPECT_EQ(c->broadcast(), Ipv4Addr(10, 77, 0, 255));
    EXPECT_TRUE(c->contains(Ipv4Addr(10, 77, 0, 200)));
    EXPECT_FALSE(c->contains(Ipv4Addr(10, 77, 1, 1)));
    EXPECT_FALSE(Ipv4Cidr::parse("10.0.0.1/33"));
    EXPECT_FALSE(Ipv4Cidr::parse("10.0.0.1/"));
    EXPECT_EQ(Ipv4Cidr::parse("0.0.0.0/0")->mask(), 0u);
}

TEST(MacAddr, RoundTrips) {
    auto m = MacAddr::parse("02:00:5e:10:00:01");
    ASSERT_TRUE(m);
    EXPECT_EQ(m->to_string(), "02:00:5e:10:00:01");
    EXPECT_FALSE(MacAddr::parse("02:00:5e:10:00"));
    EXPECT_FALSE(MacAddr::parse("02-00-5e-10-00-01"));
    EXPECT_TRUE(MacAddr::broadcast().is_broadcast());
}
