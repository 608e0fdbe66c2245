// The part of schema version 7 that SQL cannot do: the per-layer widths of
// the jobs stored before it, worked out from each job's spec.
#pragma once

namespace SQLite {
class Database;
}  // namespace SQLite

namespace bitsweep::coordinator {

/// Sets widths_g, mean_bits_g, widths_d and mean_bits_d of every job that
/// has none, from its sweep's base spec and its params (the spec it ran).
/// Runs inside the migration's transaction; throws SQLite::Exception on a
/// database error (the migration then rolls back). A job whose spec no longer
/// plans (none should) keeps NULLs.
void BackfillLayerWidths(SQLite::Database& db);

}  // namespace bitsweep::coordinator
