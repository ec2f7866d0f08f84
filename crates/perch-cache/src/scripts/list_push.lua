-- Puts an element at the front of a cached collection, in one atomic step.
-- KEYS[1]: the collection (a JSON array).
-- ARGV[1]: the element (JSON object text); ARGV[2]: its id field;
-- ARGV[3]: its id; ARGV[4]: the family's cap.
-- Drops any element with the same id and the oldest beyond the cap, keeps
-- the key's TTL. Returns the new length, -1 when the collection is not
-- cached (it stays missing: a one-element list would pass for the whole
-- list), -2 when the value was corrupt (deleted).
local text = redis.call('GET', KEYS[1])
if not text then return -1 end
local items = split_top(text, '[')
if not items then return corrupt(KEYS[1]) end
local cap = tonumber(ARGV[4])
local out = { ARGV[1] }
for _, element in ipairs(items) do
  if #out >= cap then break end
  local id, ok = read_field(element, ARGV[2])
  if not ok then return corrupt(KEYS[1]) end
  if id ~= ARGV[3] then out[#out + 1] = element end
end
redis.call('SET', KEYS[1], '[' .. table.concat(out, ',') .. ']', 'KEEPTTL')
return #out
