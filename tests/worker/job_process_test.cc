// Which GPU and environment a job's own process sees (the rest of running jobs in their own
// processes is tested end to end with real processes: reliability_e2e_test).
#include "worker/job_process.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace bitsweep::worker {
namespace {

TEST(NarrowToSlotGpuTest, AChildSeesOnlyItsSlotsGpuAsDeviceZero) {
  SlotGpu cpu = NarrowToSlotGpu("cpu", nullptr);
  EXPECT_EQ(cpu.visible_devices, "");  // the environment stays as it is
  EXPECT_EQ(cpu.device, "cpu");
  SlotGpu second = NarrowToSlotGpu("cuda:1", nullptr);
  EXPECT_EQ(second.visible_devices, "1");
  EXPECT_EQ(second.device, "cuda:0");
  EXPECT_EQ(NarrowToSlotGpu("cuda", "").visible_devices, "0");
  // A worker already narrowed to GPUs 4, 5 and 6: its slot cuda:1 is GPU 5.
  SlotGpu narrowed = NarrowToSlotGpu("cuda:1", "4,5,6");
  EXPECT_EQ(narrowed.visible_devices, "5");
  EXPECT_EQ(narrowed.device, "cuda:0");
  EXPECT_EQ(NarrowToSlotGpu("cuda:2", "GPU-a1,GPU-b2,GPU-c3").visible_devices, "GPU-c3");  // UUIDs too
}

TEST(ChildEnvironmentTest, AJobWaitsPassivelyUnlessTheWorkerSaysOtherwiseAndSeesOnlyItsGpu) {
  const char* plain[] = {"HOME=/h", "CUDA_VISIBLE_DEVICES=4,5", nullptr};
  EXPECT_EQ(ChildEnvironment(plain, ""),
            (std::vector<std::string>{"HOME=/h", "CUDA_VISIBLE_DEVICES=4,5", "OMP_WAIT_POLICY=PASSIVE"}));
  EXPECT_EQ(ChildEnvironment(plain, "5"),
            (std::vector<std::string>{"HOME=/h", "CUDA_VISIBLE_DEVICES=5", "OMP_WAIT_POLICY=PASSIVE"}));
  const char* active[] = {"OMP_WAIT_POLICY=ACTIVE", nullptr};
  EXPECT_EQ(ChildEnvironment(active, ""), (std::vector<std::string>{"OMP_WAIT_POLICY=ACTIVE"}));
}

}  // namespace
}  // namespace bitsweep::worker
