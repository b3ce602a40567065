#include "handlers/registry.h"

#include <algorithm>

#include "handlers/africastalking.h"
#include "handlers/bandwidth.h"
#include "handlers/blackmyna.h"
#include "handlers/burstsms.h"
#include "handlers/clickatell.h"
#include "handlers/clicksend.h"
#include "handlers/dart.h"
#include "handlers/dialog360.h"
#include "handlers/dmark.h"
#include "handlers/external.h"
#include "handlers/facebook_legacy.h"
#include "handlers/fcm.h"
#include "handlers/freshchat.h"
#include "handlers/hormuud.h"
#include "handlers/infobip.h"
#include "handlers/jasmin.h"
#include "handlers/justcall.h"
#include "handlers/kaleyra.h"
#include "handlers/kannel.h"
#include "handlers/line.h"
#include "handlers/macrokiosk.h"
#include "handlers/mblox.h"
#include "handlers/messagebird.h"
#include "handlers/meta.h"
#include "handlers/mtn.h"
#include "handlers/nexmo.h"
#include "handlers/plivo.h"
#include "handlers/rocketchat.h"
#include "handlers/shaqodoon.h"
#include "handlers/slack.h"
#include "handlers/smscentral.h"
#include "handlers/telegram.h"
#include "handlers/telesom.h"
#include "handlers/thinq.h"
#include "handlers/turn.h"
#include "handlers/twilio.h"
#include "handlers/viber.h"
#include "handlers/vk.h"
#include "handlers/wechat.h"
#include "handlers/yo.h"
#include "handlers/zenvia.h"
#include "util/text.h"

namespace courier {
namespace {

std::vector<std::shared_ptr<const ChannelHandler>> AllHandlers() {
  return {
      std::make_shared<ExternalHandler>(),
      std::make_shared<KannelHandler>(),
      std::make_shared<TelegramHandler>(),
      std::make_shared<TwilioHandler>("TW", "Twilio"),
      std::make_shared<TwilioHandler>("T", "Twilio"),
      std::make_shared<TwilioHandler>("TMS", "Twilio Messaging Service", TwilioHandler::Flavor::kMessagingService),
      std::make_shared<TwilioHandler>("TWA", "Twilio WhatsApp", TwilioHandler::Flavor::kWhatsApp),
      std::make_shared<TwilioHandler>("SW", "SignalWire", TwilioHandler::Flavor::kSignalWire),
      std::make_shared<AfricasTalkingHandler>(),
      std::make_shared<BlackmynaHandler>(),
      std::make_shared<ShaqodoonHandler>(),
      std::make_shared<YoHandler>(),
      std::make_shared<NexmoHandler>(),
      std::make_shared<MetaHandler>(MetaHandler::Kind::kWhatsApp),
      std::make_shared<MetaHandler>(MetaHandler::Kind::kMessenger),
      std::make_shared<MetaHandler>(MetaHandler::Kind::kInstagram),
      std::make_shared<PlivoHandler>(),
      std::make_shared<ClickatellHandler>(),
      std::make_shared<SmsCentralHandler>(),
      std::make_shared<InfobipHandler>(),
      std::make_shared<JasminHandler>(),
      std::make_shared<ZenviaHandler>(ZenviaHandler::Kind::kWhatsApp),
      std::make_shared<ZenviaHandler>(ZenviaHandler::Kind::kSms),
      std::make_shared<SlackHandler>(),
      std::make_shared<FcmHandler>(),
      std::make_shared<Dialog360Handler>(),
      std::make_shared<ViberHandler>(),
      std::make_shared<LineHandler>(),
      std::make_shared<MbloxHandler>(),
      std::make_shared<MessageBirdHandler>(),
      std::make_shared<TurnHandler>(),
      std::make_shared<BandwidthHandler>(),
      std::make_shared<ClickSendHandler>(),
      std::make_shared<HormuudHandler>(),
      std::make_shared<ThinqHandler>(),
      std::make_shared<MtnHandler>(),
      std::make_shared<DmarkHandler>(),
      std::make_shared<KaleyraHandler>(),
      std::make_shared<MacrokioskHandler>(),
      std::make_shared<JustCallHandler>(),
      std::make_shared<BurstSmsHandler>(),
      std::make_shared<FacebookLegacyHandler>(),
      std::make_shared<VkHandler>(),
      std::make_shared<TelesomHandler>(),
      std::make_shared<DartHandler>(DartHandler::Flavor::kDartMedia),
      std::make_shared<DartHandler>(DartHandler::Flavor::kHub9),
      std::make_shared<WeChatHandler>(),
      std::make_shared<FreshchatHandler>(),
      std::make_shared<RocketChatHandler>(),
  };
}

}  // namespace

HandlerRegistry HandlerRegistry::Build(const std::vector<std::string>& include, const std::vector<std::string>& exclude) {
  HandlerRegistry r;
  for (auto& h : AllHandlers()) {
    const std::string code = h->Code();
    auto named = [&](const std::string& c) { return EqualsIgnoreCase(c, code); };
    const bool included = include.empty() || std::any_of(include.begin(), include.end(), named);
    const bool excluded = std::any_of(exclude.begin(), exclude.end(), named);
    if (included && !excluded) r.handlers_.push_back(h);
  }
  return r;
}

const ChannelHandler* HandlerRegistry::Find(const std::string& code) const {
  for (const auto& h : handlers_)
    if (EqualsIgnoreCase(h->Code(), code)) return h.get();
  return nullptr;
}

const ChannelTypeInfo* HandlerRegistry::FindType(const std::string& code) const {
  const ChannelHandler* h = Find(code);
  return h ? &h->Type() : nullptr;
}

std::vector<const ChannelTypeInfo*> HandlerRegistry::Types() const {
  std::vector<const ChannelTypeInfo*> types;
  for (const auto& h : handlers_) types.push_back(&h->Type());
  return types;
}

}  // namespace courier
