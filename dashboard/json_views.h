// The coordinator's messages as the JSON the dashboard's pages read.
#pragma once

#include <cstdint>

#include <nlohmann/json.hpp>

#include "bitsweep/v1/bitsweep.pb.h"
#include "common/table.h"

namespace bitsweep::dashboard {

/// A sweep with its counts, slot-hours and (while it runs) an ETA estimate.
/// The spec and outcome are included only when `with_spec`.
nlohmann::json SweepJson(const v1::Sweep& sweep, int64_t now_unix_ms, bool with_spec);
nlohmann::json JobJson(const v1::Job& job);
nlohmann::json WorkerJson(const v1::Worker& worker);
/// Rows [offset, offset + limit) of a table: columns, and per row the cells
/// as {"t": text, "n": number or null}.
nlohmann::json TablePageJson(const Table& table, int64_t offset, int64_t limit);
/// Rows of a read-only query as objects keyed by column.
nlohmann::json QueryRowsJson(const v1::QueryResponse& response);
/// A JSON text parsed, or the text itself when it is not JSON (so a page
/// shows what is there instead of nothing).
nlohmann::json ParsedOrText(const std::string& text);

}  // namespace bitsweep::dashboard
