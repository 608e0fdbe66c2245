// `bitsweep dashboard`: the web dashboard in front of a coordinator.
#include <chrono>
#include <cstdio>
#include <thread>

#include "cli/client.h"
#include "cli/commands.h"
#include "cli/interrupt.h"
#include "cli/service_commands.h"
#include "common/service_memory.h"
#include "dashboard/server.h"

namespace bitsweep::cli {

int RunDashboardCommand(const DashboardCommandOptions& options) {
  const auto& interrupted = InterruptFlag();
  UseServiceMemorySettings();
  auto address = dashboard::ParseListenAddress(options.listen, options.allow_remote);
  if (!address.ok()) return ReportError("dashboard", address.status());
  const std::string coordinator = options.coordinator.empty() ? DefaultCoordinatorAddress() : options.coordinator;
  Connection c = Connect(coordinator);
  dashboard::DashboardServer server(c.channel, Authorize);
  if (Status s = server.Start(address.value()); !s.ok()) return ReportError("dashboard", s);
  std::printf("bitsweep dashboard: %s (coordinator %s; Ctrl-C stops)\n", server.Url().c_str(), coordinator.c_str());
  std::fflush(stdout);
  while (!interrupted) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  std::fprintf(stderr, "bitsweep dashboard: shutting down\n");
  server.Stop();
  return kExitOk;
}

}  // namespace bitsweep::cli
