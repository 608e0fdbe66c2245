// The one place where bitsweep's Status and gRPC's status meet.
#pragma once

#include <grpcpp/support/status.h>

#include "common/status.h"

namespace bitsweep {

/// Maps a Status onto the gRPC code of the same meaning (IO errors and
/// corruption become INTERNAL, with the message kept).
grpc::Status ToGrpcStatus(const Status& status);

/// The reverse, for clients: the code users see, with "rpc <method>: " in
/// front of the message when `method` is given.
Status FromGrpcStatus(const grpc::Status& status, const char* method = nullptr);

/// Turns off Abseil's mutex deadlock detection, which the distribution's
/// Abseil build leaves on and which gRPC's locks then pay for on every call
/// (measured: about 5% of a loopback RPC). Safe to call more than once.
void DisableMutexDeadlockDetection();

}  // namespace bitsweep
