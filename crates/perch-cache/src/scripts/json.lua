-- Helpers shared by the collection scripts; perch-cache prepends this file
-- to each of them (Redis scripts cannot include one another).
--
-- Values are JSON written by perch-cache. The scripts never re-encode an
-- element they do not change: cjson would turn an empty array inside it
-- ("mediaUrls": []) into {}, escape every "/" and print big numbers in %.14g.
-- So elements are cut out of the text verbatim, and cjson only reads them.

-- Splits the top-level members of a JSON array (open = '[') or object
-- (open = '{') into verbatim substrings. Returns nil when the text is not
-- such a container.
local function split_top(s, open)
  local first = string.find(s, '%S')
  if not first or string.sub(s, first, first) ~= open then return nil end
  local out = {}
  local depth = 0
  local start = first + 1
  local i = first
  while true do
    local j = string.find(s, '[][{}",]', i)
    if not j then return nil end
    local c = string.sub(s, j, j)
    if c == '"' then
      -- Skip the string, escapes included.
      local k = j + 1
      while true do
        local q = string.find(s, '["\\]', k)
        if not q then return nil end
        if string.sub(s, q, q) == '\\' then
          k = q + 2
        else
          k = q + 1
          break
        end
      end
      i = k
    elseif c == '[' or c == '{' then
      depth = depth + 1
      i = j + 1
    elseif c == ']' or c == '}' then
      depth = depth - 1
      if depth < 0 then return nil end
      if depth == 0 then
        local last = string.sub(s, start, j - 1)
        if string.find(last, '%S') then
          out[#out + 1] = last
        elseif #out > 0 then
          return nil -- a trailing comma
        end
        if string.find(s, '%S', j + 1) then return nil end
        return out
      end
      i = j + 1
    else -- a comma
      if depth == 1 then
        out[#out + 1] = string.sub(s, start, j - 1)
        start = j + 1
      end
      i = j + 1
    end
  end
end

-- Decodes one element; returns its `field` and whether it is an object.
local function read_field(element, field)
  local ok, obj = pcall(cjson.decode, element)
  if not ok or type(obj) ~= 'table' then return nil, false end
  return obj[field], true
end

-- The key of an object member `"key":value`.
local function member_key(member)
  return string.match(member, '^%s*"([^"\\]*)"%s*:')
end

-- The object text with member `field` set to the JSON text `value`.
local function with_member(members, field, value)
  local out = {}
  local found = false
  for _, m in ipairs(members) do
    if member_key(m) == field then
      out[#out + 1] = '"' .. field .. '":' .. value
      found = true
    else
      out[#out + 1] = m
    end
  end
  if not found then out[#out + 1] = '"' .. field .. '":' .. value end
  return '{' .. table.concat(out, ',') .. '}'
end

-- Deletes a value that does not parse, so it reads as a miss from now on.
local function corrupt(key)
  redis.call('DEL', key)
  return -2
end
