#pragma once

#include <cstddef>
#include <functional>
#include <list>

namespace bridge::webhook::http {

// The connections that wait for their next request and may be closed to make room for a new
// one, oldest first: a listener at its connection cap or out of file descriptors sheds these
// instead of refusing a newcomer (an attacker's idle connections must not lock Meta out).
// Not thread-safe: one executor.
class idle_connections {
  struct entry;

 public:
  // A connection listed while this object lives (it waits for its next request). Neither
  // copyable nor movable: the list points back to it.
  class listing {
   public:
    // Lists a connection; `close` ends it when it is shed (called at most once).
    listing(idle_connections& registry, std::function<void()> close);
    ~listing();
    listing(const listing&) = delete;
    listing& operator=(const listing&) = delete;
    // True when the connection was closed to make room.
    bool shed() const { return shed_; }

   private:
    friend class idle_connections;
    idle_connections& registry_;
    std::list<entry>::iterator position_;
    bool shed_ = false;
  };

  // Closes the connection that has waited longest; false when none is listed.
  bool close_oldest();
  // Connections listed now.
  std::size_t size() const { return waiting_.size(); }

 private:
  struct entry {
    std::function<void()> close;
    listing* owner;
  };
  std::list<entry> waiting_;  // oldest first
};

}  // namespace bridge::webhook::http
