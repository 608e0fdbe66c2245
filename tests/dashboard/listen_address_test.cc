#include <gtest/gtest.h>

#include "dashboard/server.h"

namespace bitsweep::dashboard {
namespace {

TEST(ListenAddressTest, LoopbackIsServedAndOtherAddressesNeedToBeAllowed) {
  auto v4 = ParseListenAddress("127.0.0.1:8080", false);
  ASSERT_TRUE(v4.ok());
  EXPECT_EQ(v4->host, "127.0.0.1");
  EXPECT_EQ(v4->port, 8080);
  auto v6 = ParseListenAddress("[::1]:0", false);
  ASSERT_TRUE(v6.ok()) << v6.status().ToString();
  EXPECT_EQ(v6->host, "::1");
  EXPECT_TRUE(ParseListenAddress("localhost:9000", false).ok());

  auto any = ParseListenAddress("0.0.0.0:8080", false);
  ASSERT_FALSE(any.ok());
  EXPECT_NE(any.status().message().find("--allow-remote"), std::string::npos);
  EXPECT_TRUE(ParseListenAddress("0.0.0.0:8080", true).ok());
}

TEST(ListenAddressTest, MalformedAddressesAreRefusedWithWhatIsWrong) {
  EXPECT_NE(ParseListenAddress("8080", false).status().message().find("HOST:PORT"), std::string::npos);
  EXPECT_NE(ParseListenAddress("127.0.0.1:http", false).status().message().find("\"http\""), std::string::npos);
  EXPECT_NE(ParseListenAddress("127.0.0.1:70000", false).status().message().find("70000"), std::string::npos);
  EXPECT_FALSE(ParseListenAddress("[::1]8080", false).ok());
}

}  // namespace
}  // namespace bitsweep::dashboard
