-- Headless Ardour render of the Sirenade VST3, run by `cargo xtask host-check` through
-- `ardour7-lua` (Ardour's Lua session tool) with the Dummy audio backend, in real time.
--
-- Environment: SIRENADE_SESSION (session folder to create; it must not exist),
-- PLUGIN_NAME (the plugin's name in Ardour's VST3 cache, default "Sirenade"),
-- LATENT_PARAM (the parameter moved while notes sound, default "Latent 1").
--
-- A MIDI track hosts the instrument; an armed stereo audio track records its output to
-- <session>/interchange/<name>/audiofiles/*.wav, which the xtask then measures.
-- Progress lines start with "host-check:"; the last one is "host-check: done".

local session_dir = assert(os.getenv("SIRENADE_SESSION"), "SIRENADE_SESSION is not set")
local plugin_name = os.getenv("PLUGIN_NAME") or "Sirenade"
local latent_name = os.getenv("LATENT_PARAM") or "Latent 1"

AudioEngine:set_backend("None (Dummy)", "", "")
local s = create_session(session_dir, "host-check", 48000)
assert(s, "could not create the session at " .. session_dir)

local pi = ARDOUR.LuaAPI.new_plugin_info(plugin_name, ARDOUR.PluginType.VST3)
assert(not pi:isnil(), plugin_name .. " is not in Ardour's VST3 cache (run ardour-vst3-scanner)")

local tl = s:new_midi_track(ARDOUR.ChanCount(ARDOUR.DataType("midi"), 1),
  ARDOUR.ChanCount(ARDOUR.DataType("audio"), 2), true, pi, nil, nil, 1, "synth",
  ARDOUR.PresentationInfo.max_order, ARDOUR.TrackMode.Normal, true, false)
local synth
for t in tl:iter() do synth = t end
assert(synth, "could not create the MIDI track with " .. plugin_name)
local proc = synth:nth_plugin(0)
assert(not proc:isnil(), "the MIDI track has no plugin")
local ins = proc:to_plugininsert()
local plug = ins:plugin(0)
print("host-check: plugin " .. plug:name() .. " by " .. plug:maker())

-- List the input controls; `n` is the index set_processor_param takes.
local latent_index, latent_lower, latent_upper
local n = 0
for j = 0, plug:parameter_count() - 1 do
  if plug:parameter_is_control(j) and plug:parameter_is_input(j) then
    local label = plug:parameter_label(j)
    local _, _, pd = ARDOUR.LuaAPI.plugin_automation(proc, n)
    local value = ARDOUR.LuaAPI.get_processor_param(proc, n, true)
    print(string.format("host-check: param %d %q = %g [%g, %g]", n, label, value, pd.lower, pd.upper))
    if label == latent_name then
      latent_index, latent_lower, latent_upper = n, pd.lower, pd.upper
    end
    n = n + 1
  end
end
assert(latent_index, "no parameter named " .. latent_name)

local al = s:new_audio_track(2, 2, nil, 1, "rec", ARDOUR.PresentationInfo.max_order,
  ARDOUR.TrackMode.Normal, true, false)
local rec
for t in al:iter() do rec = t end
rec:input():disconnect_all(nil)
for c = 0, 1 do rec:input():audio(c):connect(synth:output():audio(c):name()) end
rec:rec_enable_control():set_value(1, PBD.GroupControlDisposition.NoGroup)

s:maybe_enable_record(false)
s:request_roll(ARDOUR.TransportRequestSource.TRS_UI)

local parser = ARDOUR.RawMidiParser()
local function send(bytes)
  for _, b in ipairs(bytes) do
    if parser:process_byte(b) then
      ins:write_immediate_event(Evoral.EventType.MIDI_EVENT, parser:buffer_size(), parser:midi_buffer())
    end
  end
end

ARDOUR.LuaAPI.usleep(300000)
print("host-check: note on 57, 64")
send({0x90, 57, 110}); send({0x90, 64, 100})
ARDOUR.LuaAPI.usleep(1000000)
local before = ARDOUR.LuaAPI.get_processor_param(proc, latent_index, true)
local target = latent_lower + 0.9 * (latent_upper - latent_lower)
if math.abs(target - before) < 0.25 * (latent_upper - latent_lower) then
  target = latent_lower + 0.1 * (latent_upper - latent_lower)
end
ARDOUR.LuaAPI.set_processor_param(proc, latent_index, target)
print(string.format("host-check: %s %g -> %g (reads %g)", latent_name, before, target,
  ARDOUR.LuaAPI.get_processor_param(proc, latent_index, true)))
ARDOUR.LuaAPI.usleep(1000000)
print("host-check: note off")
send({0x80, 57, 0}); send({0x80, 64, 0})
ARDOUR.LuaAPI.usleep(500000)
s:request_stop(false, false, ARDOUR.TransportRequestSource.TRS_UI)
ARDOUR.LuaAPI.usleep(1000000)
s:save_state("", false, false, false, false, false)
close_session()
print("host-check: done")
