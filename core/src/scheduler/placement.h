// Placement: which worker a ready task goes to, and how deep a worker may queue. A pure
// function over plain numbers (the scheduler gathers them from its workers and the task's
// inputs), so that the policy can be read and tested without an engine: locality first (the
// worker already holding most of the inputs' bytes), then the least loaded worker with room.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace taskbench::detail::placement {

/// One worker as placement sees it.
struct Candidate
{
    std::size_t outstanding = 0; ///< tasks assigned and not yet reported
    int threads = 1;
    /// Inputs of the task this worker holds: 1 per input it computed (and still holds), plus
    /// the bytes of those only it holds. Not read for a worker without room.
    std::uint64_t localBytes = 0;
};

/// The mean duration assumed for a function that has not finished a task yet: long, so
/// that an unknown function is handed out one per thread.
inline constexpr double kUnmeasuredUs = 1e6;

/// Returned by choose() when every worker is full.
inline constexpr std::size_t kNone = SIZE_MAX;

/// Tasks per worker thread that may be outstanding for a function of this mean duration:
/// short tasks queue deeper so that workers never starve between scheduler rounds; long ones
/// one per thread so that a free worker can take the next.
std::size_t queueDepth(double meanUs);

/// The index of the worker to run the task on (kNone: all full). A worker has room while
/// outstanding < threads * depth. Among those: most localBytes, then the lowest
/// outstanding / threads; ties go to the earliest candidate.
std::size_t choose(std::span<const Candidate> candidates, std::size_t depth);

} // namespace taskbench::detail::placement
