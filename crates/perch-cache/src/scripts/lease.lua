-- Reads values and takes fill leases (store/lease.rs), in one step.
-- KEYS: value 1, lease 1, value 2, lease 2, ... (each pair in one slot)
-- ARGV[1]: the lease token; ARGV[2]: the lease TTL in ms;
-- ARGV[3]: "1" to lease every key, "0" only the missing ones.
-- Answers the values in order (nil for a missing key).
local out = {}
for i = 1, #KEYS, 2 do
  local value = redis.call('GET', KEYS[i])
  out[#out + 1] = value
  if (not value) or ARGV[3] == '1' then
    redis.call('SET', KEYS[i + 1], ARGV[1], 'PX', ARGV[2])
  end
end
return out
