-- Removes the elements of one id from a cached collection, atomically.
-- KEYS[1]: the collection; ARGV[1]: the id field; ARGV[2]: the id;
-- ARGV[3]: the family's cap.
-- Keeps the TTL; an emptied collection is stored as [] (never {}). A full
-- collection (cap elements or more) is deleted instead: it holds only the
-- newest entries of a possibly longer one, and one short it would pass for
-- the whole.
-- Returns the new length, -1 when not cached, -2 when corrupt (deleted),
-- -3 when no element had that id (nothing written), -4 when dropped.
local text = redis.call('GET', KEYS[1])
if not text then return -1 end
-- cjson validates and reads the ids; elements are kept verbatim (json.lua).
local ok, decoded = pcall(cjson.decode, text)
if not ok or type(decoded) ~= 'table' or not string.match(text, '^%s*%[') then
  return corrupt(KEYS[1])
end
local found = false
for _, entry in ipairs(decoded) do
  if type(entry) ~= 'table' then return corrupt(KEYS[1]) end
  if entry[ARGV[1]] == ARGV[2] then found = true end
end
if not found then return -3 end
if #decoded >= tonumber(ARGV[3]) then
  redis.call('DEL', KEYS[1])
  return -4
end
local items = split_top(text, '[')
if not items or #items ~= #decoded then return corrupt(KEYS[1]) end
local out = {}
for i, element in ipairs(items) do
  if decoded[i][ARGV[1]] ~= ARGV[2] then out[#out + 1] = element end
end
redis.call('SET', KEYS[1], '[' .. table.concat(out, ',') .. ']', 'KEEPTTL')
return #out
