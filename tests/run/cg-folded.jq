# cg-folded.jq: a `callgraph --format=json` tree as folded lines, "main;f;g SELF" per node, the
# self time as flamegraph's time metric has it (CPU self where the trace has it, else wall).
# With --argjson min 1, only nodes with self time (the lines flamegraph --folded prints); without
# it, every node, so a test can ask whether a path was called at all.
(.nodes | map({key: (.id | tostring), value: .}) | from_entries) as $m
| .nodes[] | select((.cpu_self_ns // .self_ns) >= ($ARGS.named.min // 0)) | . as $n
| [$n | recurse(if .parent != 0 then $m[.parent | tostring] else empty end) | .name]
| reverse | join(";") + " " + (($n.cpu_self_ns // $n.self_ns) | tostring)
