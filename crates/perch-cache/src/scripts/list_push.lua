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
-- cjson (C) validates the whole array and reads the ids; it is only read,
-- never re-encoded (see json.lua).
local ok, decoded = pcall(cjson.decode, text)
if not ok or type(decoded) ~= 'table' or not string.match(text, '^%s*%[') then
  return corrupt(KEYS[1])
end
local cap = tonumber(ARGV[4])
local duplicate = false
for _, entry in ipairs(decoded) do
  if type(entry) ~= 'table' then return corrupt(KEYS[1]) end
  if entry[ARGV[2]] == ARGV[3] then duplicate = true end
end
local n = #decoded
if not duplicate and n < cap then
  -- The common case, a new entry with room to spare: prepend to the text.
  local rest = string.match(text, '^%s*%[%s*(.-)%s*$')
  local joined
  if n == 0 then joined = '[' .. ARGV[1] .. ']' else joined = '[' .. ARGV[1] .. ',' .. rest end
  redis.call('SET', KEYS[1], joined, 'KEEPTTL')
  return n + 1
end
-- Otherwise cut the elements out verbatim, drop the duplicate, cap.
local items = split_top(text, '[')
if not items or #items ~= #decoded then return corrupt(KEYS[1]) end
local out = { ARGV[1] }
for i, element in ipairs(items) do
  if #out >= cap then break end
  if decoded[i][ARGV[2]] ~= ARGV[3] then out[#out + 1] = element end
end
redis.call('SET', KEYS[1], '[' .. table.concat(out, ',') .. ']', 'KEEPTTL')
return #out
