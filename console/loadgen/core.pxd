# Cython's augmenting declarations for core.py (pure Python mode): its classes as
# extension types with typed attributes and C-level methods (see http1.pxd).
cimport cython
from console.loadgen.http1 cimport Http1Client, Reply


cdef Py_ssize_t SMALL


cdef class AioAnswer(Reply):
    cdef public str version


cdef class EngineCore:
    cdef public Py_ssize_t in_flight
    cdef public bint _ended, _stopping, _perf_clock
    cdef public object on_response, clock, _loop
    cdef public Http1Client _http1
    cdef public Recorder stats
    cdef public list prepared


cdef class Recorder:
    cdef public object clock, stop_time
    cdef public double _next
    cdef public list _lat, _code, _nb
    cdef public Py_ssize_t _taken, _bytes
    cdef public double _total_time, _longest, _lowest
    cdef public dict _pending
    cdef unsigned int _small[2048]  # SMALL

    @cython.locals(lat=list, code=list, nb=list, k=Py_ssize_t, n=Py_ssize_t, i=Py_ssize_t,
                   total=double, hi=double, lo=double, nbytes=Py_ssize_t, x=double,
                   v="long long", shift=int, c=int, last=int, run=Py_ssize_t, codes=dict,
                   pending=dict)
    cpdef _tally(self)
    @cython.locals(v=Py_ssize_t, pending=dict)
    cpdef dict _pour(self)

    @cython.locals(t=double)
    cpdef record(self, int code, double latency, Py_ssize_t nbytes, now=*)


cdef class _Flow:
    cdef public EngineCore engine
    cdef public object session, then, done, p
    cdef public double t0
    cdef public int hops

    cpdef start(self, p, double t0)
    cpdef _go(self, p)
    @cython.locals(e=EngineCore, status=int, now=double, latency=double, failed=bint)
    cpdef answered(self, Reply a, exc)
    cpdef _error(self, exc)
    cpdef _over(self, bint failed)


cdef class _User(_Flow):
    cdef public list targets, wires
    cdef public Py_ssize_t n, y, left
    cdef public double delay
    cdef public object rng, finished

    @cython.locals(e=EngineCore, i=Py_ssize_t, raw=bytes, key=tuple, head=bint)
    cpdef next(self)
