// Kept apart from event_loop.cpp so that code using the loop without a Stack links without one.
#include "runtime/event_loop.hpp"
#include "stack/stack.hpp"

namespace ustack::runtime {

Driven drive(Stack& stack) {
    return Driven{[&stack](Instant now) { stack.poll(now); },
                  [&stack] { return stack.next_deadline(); }};
}

}  // namespace ustack::runtime
