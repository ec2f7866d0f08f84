-- Stores a loaded value only if its fill lease is still held (store/lease.rs).
-- KEYS[1]: the value; KEYS[2]: its lease (one slot)
-- ARGV[1]: the lease token; ARGV[2]: the value; ARGV[3]: its TTL in ms.
-- Answers 1 if it stored the value (and ended the lease), else 0.
if redis.call('GET', KEYS[2]) == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
  redis.call('DEL', KEYS[2])
  return 1
end
return 0
