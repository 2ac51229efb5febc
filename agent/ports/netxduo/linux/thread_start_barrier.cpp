// The ThreadX Linux port creates a pthread per ThreadX thread plus one for its timer interrupt,
// and suspends them with SIGUSR1 wherever they are: its scheduler suspends the timer pthread
// every time it hands the CPU to a thread. A sanitizer runtime starts each new pthread by
// allocating under its allocator's lock. A pthread suspended there keeps that lock; every other
// pthread still starting then waits on it, among them the ThreadX thread the scheduler is waiting
// for, and the whole process stops before its first line of output (seen about once in a hundred
// starts of the example device under AddressSanitizer). So pthread_create, wrapped at link time
// for every program linking the port (--wrap=pthread_create), returns only once the new pthread
// runs its own start routine, past the runtime's part: none is ever suspended half-started.

#include <errno.h>
#include <pthread.h>
#include <semaphore.h>

extern "C" int __real_pthread_create(pthread_t* thread, const pthread_attr_t* attributes,
                                     void* (*start)(void*), void* argument);

namespace {

struct PendingStart {
    void* (*start)(void*);
    void* argument;
    sem_t entered;
};

void* enter(void* pending_start) {
    auto* pending = static_cast<PendingStart*>(pending_start);
    void* (*const start)(void*) = pending->start;
    void* const argument = pending->argument;
    // The creator frees `pending` once this is posted: read it before.
    sem_post(&pending->entered);
    return start(argument);
}

}  // namespace

extern "C" int __wrap_pthread_create(pthread_t* thread, const pthread_attr_t* attributes,
                                     void* (*start)(void*), void* argument) {
    PendingStart pending{start, argument, {}};
    if (sem_init(&pending.entered, 0, 0) != 0) {
        return errno;
    }
    const int created = __real_pthread_create(thread, attributes, enter, &pending);
    if (created == 0) {
        // The port's signals interrupt the wait of a ThreadX thread creating another.
        while (sem_wait(&pending.entered) != 0 && errno == EINTR) {
        }
    }
    sem_destroy(&pending.entered);
    return created;
}
