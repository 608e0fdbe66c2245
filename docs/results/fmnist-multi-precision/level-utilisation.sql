-- How evenly each method spreads the generator's weights over its 2^b levels
-- (QGAN's "under-represented levels"), from the per-layer diagnostics every
-- qgan job stores in result_json. One row per method and G width (D at full
-- precision), over every seed; layers weighted by their number of weights.
--   utilisation: entropy of the level histogram / b (1 = all levels equally used)
--   levels_used: share of the 2^b levels holding any weight
--   top_level:   share of the weights on the most crowded level
--   sqlite3 -readonly -header -column FILE.db < level-utilisation.sql
SELECT j.method_g AS method, j.bits_g AS bits, COUNT(DISTINCT j.id) AS runs,
       ROUND(SUM(json_extract(l.value, '$.utilisation') * json_extract(l.value, '$.num_weights')) /
             SUM(json_extract(l.value, '$.num_weights')), 3) AS utilisation,
       ROUND(SUM(json_extract(l.value, '$.levels_used') * 1.0 / (1 << j.bits_g) * json_extract(l.value, '$.num_weights')) /
             SUM(json_extract(l.value, '$.num_weights')), 3) AS levels_used,
       ROUND(SUM((SELECT MAX(f.value) FROM json_each(l.value, '$.level_fraction') f) * json_extract(l.value, '$.num_weights')) /
             SUM(json_extract(l.value, '$.num_weights')), 3) AS top_level
FROM jobs j, json_each(j.result_json, '$.quantization.g') l
WHERE j.state = 'SUCCEEDED' AND j.method_g != 'none' AND j.method_d = 'none'
GROUP BY j.method_g, j.bits_g
ORDER BY j.method_g, j.bits_g;
