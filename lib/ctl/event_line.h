#pragma once
// Store events as courier-ctl prints them for people (`events` without
// --json): one line an event saying what happened, to which msg, with its
// status, URN and error, never cut, so `events --follow` can be read as it
// scrolls. Columns are padded to fixed widths (a stream cannot measure the
// lines to come), so a longer value shifts the rest of its line only.
#include <string>

#include "model/event.h"

namespace courier {

// The column names, as one line (no newline).
std::string EventHeader();

// `event` as one line (no newline): SEQ, TIME (UTC to the second), TYPE (the
// topic), MSG (the msg id), STATUS (a status letter), URN and DETAILS, "-"
// for what the event does not carry. DETAILS lists, as "name: value" parts
// joined by "; ", the error, the text, the attachments, the provider's id,
// the next attempt, or the contact; for a topic it does not know, or a
// payload that is not a JSON object, the payload as stored. Newlines and tabs
// in values are shown as spaces.
std::string EventLine(const Event& event);

}  // namespace courier
