#include "http/http_server.h"

#include <Poco/Exception.h>
#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/ThreadPool.h>

#include <algorithm>

namespace courier {
namespace {

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

class Adapter : public Poco::Net::HTTPRequestHandler {
 public:
  Adapter(HttpService& service, long max_body) : service_(service), max_body_(max_body) {}

  void handleRequest(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response) override {
    HttpOut out;
    try {
      HttpIn in;
      in.method = request.getMethod();
      in.uri = request.getURI();
      in.remote_address = request.clientAddress().toString();
      for (const auto& [k, v] : request) in.headers[Lower(k)] = v;
      const bool has_body = request.hasContentLength() || request.getChunkedTransferEncoding();
      if (!has_body) {
        // No length and not chunked: no body (reading would wait for the
        // client to close the connection).
      } else if (request.hasContentLength() && request.getContentLength64() > max_body_) {
        in.body_too_large = true;
        response.setKeepAlive(false);  // the unread body makes the connection unusable
      } else {
        std::istream& body = request.stream();
        char buf[16384];
        while (body) {
          body.read(buf, sizeof buf);
          in.body.append(buf, static_cast<size_t>(body.gcount()));
          if (static_cast<long>(in.body.size()) > max_body_) {
            in.body_too_large = true;
            in.body.clear();
            response.setKeepAlive(false);
            break;
          }
        }
      }
      out = service_.Handle(in);
    } catch (const std::exception& e) {
      // Invariant 5: nothing a request contains crashes the process.
      out.status = 500;
      out.body = "{\"message\":\"Error\",\"data\":[{\"type\":\"error\",\"error\":\"internal error\"}]}";
    }
    try {
      auto status = static_cast<Poco::Net::HTTPResponse::HTTPStatus>(out.status);
      response.setStatusAndReason(status, Poco::Net::HTTPResponse::getReasonForStatus(status));
      response.setContentType(out.content_type);
      for (const auto& [k, v] : out.headers) response.set(k, v);
      response.setContentLength64(static_cast<Poco::Int64>(out.body.size()));
      response.send().write(out.body.data(), static_cast<std::streamsize>(out.body.size()));
    } catch (const std::exception&) {
      // The client went away; its data, if any, is already durable.
    }
  }

 private:
  HttpService& service_;
  long max_body_;
};

class Factory : public Poco::Net::HTTPRequestHandlerFactory {
 public:
  Factory(HttpService& service, long max_body) : service_(service), max_body_(max_body) {}
  Poco::Net::HTTPRequestHandler* createRequestHandler(const Poco::Net::HTTPServerRequest&) override {
    return new Adapter(service_, max_body_);
  }

 private:
  HttpService& service_;
  long max_body_;
};

}  // namespace

struct HttpServer::Impl {
  HttpService& service;
  HttpServerOptions options;
  std::unique_ptr<Poco::ThreadPool> pool;
  std::unique_ptr<Poco::Net::HTTPServer> server;
  int port = 0;
};

HttpServer::HttpServer(HttpService& service, HttpServerOptions options)
    : impl_(new Impl{service, std::move(options), nullptr, nullptr, 0}) {}

HttpServer::~HttpServer() { Stop(); }

Status HttpServer::Start() {
  try {
    Poco::Net::SocketAddress address(impl_->options.address, static_cast<Poco::UInt16>(impl_->options.port));
    // SO_REUSEADDR (restart while old connections linger in TIME_WAIT) but
    // not SO_REUSEPORT, which Poco's (address, backlog) constructor sets: with
    // it a second courier-recv on the same port starts "fine" and the
    // kernel splits webhooks between the two (and their stores).
    Poco::Net::ServerSocket socket;
    socket.bind(address, /*reuseAddress=*/true, /*reusePort=*/false);
    socket.listen(512);
    impl_->port = socket.address().port();
    auto* params = new Poco::Net::HTTPServerParams;
    params->setMaxThreads(impl_->options.max_threads);
    params->setMaxQueued(impl_->options.max_queued);
    params->setKeepAlive(true);
    params->setMaxKeepAliveRequests(0);
    params->setTimeout(Poco::Timespan(impl_->options.timeout_seconds, 0));
    params->setKeepAliveTimeout(Poco::Timespan(impl_->options.timeout_seconds, 0));
    impl_->pool = std::make_unique<Poco::ThreadPool>(4, impl_->options.max_threads, 60);
    impl_->server = std::make_unique<Poco::Net::HTTPServer>(
        new Factory(impl_->service, impl_->options.max_body_bytes), *impl_->pool, socket, params);
    impl_->server->start();
    return Status::OK();
  } catch (const Poco::Exception& e) {
    return Status::Unavailable("cannot listen on " + impl_->options.address + ":" +
                               std::to_string(impl_->options.port) + ": " + e.displayText());
  }
}

void HttpServer::Stop() {
  if (!impl_->server) return;
  try {
    impl_->server->stopAll(false);
    impl_->pool->joinAll();
  } catch (const std::exception&) {
  }
  impl_->server.reset();
  impl_->pool.reset();
}

int HttpServer::port() const { return impl_->port; }

}  // namespace courier
