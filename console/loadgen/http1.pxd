# Cython's augmenting declarations for http1.py (pure Python mode): the hot
# classes as extension types with typed attributes, so the hot path is C-level
# attribute access and calls. http1.py stays plain, runnable Python.

cimport cython


cdef class Reply:
    cdef public int status
    cdef public Py_ssize_t nbytes
    cdef public object location
    cdef public double done_at


cdef class _HeadWatch:
    cdef _Conn conn


cdef class _Conn(Reply):
    cdef public Http1Client client
    cdef public tuple key
    cdef public bint keepalive
    cdef public list pool
    cdef public object transport
    cdef public object loop
    cdef public object parser
    cdef public bint headed
    cdef public object done
    cdef public bytes raw
    cdef public bint reused
    cdef public Py_ssize_t sent, swept
    cdef public double since
    cdef public bint complete
    cdef public bint closed
    cdef public bint keep
    cdef public bint head_only
    cdef public str head_version
    cdef public bytes head

    cpdef data_received(self, data)
    cpdef on_body(self, body)
    @cython.locals(status=int)
    cpdef on_message_complete(self)
    cpdef send(self, bytes raw, bint head_only, object done, bint reused)
    cpdef abort(self)
    cdef _complete(self, bint keep)
    cpdef _fail(self, exc)


cdef class Http1Client:
    cdef public double timeout
    cdef public bint keepalive
    cdef public object loop
    cdef public dict idle
    cdef public set all
    cdef public set _connecting
    cdef public object _sweeper
    cdef public bint closed

    @cython.locals(pool=list, conn=_Conn)
    cpdef send(self, tuple key, bytes raw, bint head_only, object done)
    cpdef _answered(self, _Conn conn, exc)
    cpdef _drop(self, _Conn conn)
