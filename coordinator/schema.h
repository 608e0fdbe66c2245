// The results store's schema, as an ordered list of migrations.
//
// `PRAGMA user_version` holds the version a file is at; opening a file runs
// the migrations it lacks, each in its own transaction. Never edit a shipped
// migration: add the next one. docs/results-store.md documents the tables.
#pragma once

#include <string>
#include <vector>

namespace bitsweep::coordinator {

/// Migration i (0-based) takes a file from version i to version i + 1.
const std::vector<std::string>& SchemaMigrations();

/// The version this build writes.
int LatestSchemaVersion();

/// The version that added per-layer widths to the jobs table: migrating to
/// it also runs BackfillLayerWidths (coordinator/layer_widths_backfill.h),
/// which SQL alone cannot do (the widths follow from the job spec and the
/// architecture).
inline constexpr int kLayerWidthsSchemaVersion = 7;

}  // namespace bitsweep::coordinator
