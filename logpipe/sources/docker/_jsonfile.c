/* Docker's json-file records decoded a read buffer at a time: the compiled twin of
   jsonfile.decode_buffer_python.

   decode_buffer(chunk, end, since, fallback) -> list of FileLine (stream id, time ns, text, partial?)

   chunk[:end] is split on '\n' as bytes.split does. A record in the exact shape dockerd writes,

       {"log":"<JSON string>","stream":"stdout|stderr","time":"YYYY-MM-DDTHH:MM:SS[.1-9 digits]Z"}

   (with `,"attrs":{"<key>":"<value>",...}` before the time where log-opts labels or env add it)

   is decoded here: the string unescaped as orjson does (every JSON escape, surrogate pairs; strict UTF-8), the time
   read as logpipe.times.parse_docker_time reads it, the record dropped when its time is before `since`. Anything
   else (another key order, a lone surrogate, invalid UTF-8, a control character, an odd time, a torn
   record) is handed to fallback(line, since), the Python decoder, whose FileLine (or None: dropped) is taken as it
   is. So the output is the Python loop's, record for record; this file only makes the common case cheap. */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

#define NS_PER_SECOND 1000000000LL

static PyObject *stream_stdout; /* 1 */
static PyObject *stream_stderr; /* 2 */

/* ---- the log string ---------------------------------------------------------------------------------------- */

static int hex_value(unsigned char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static int read_hex4(const unsigned char *p, const unsigned char *limit, unsigned int *out) {
    if (limit - p < 4) return 0;
    unsigned int value = 0;
    for (int i = 0; i < 4; i++) {
        int digit = hex_value(p[i]);
        if (digit < 0) return 0;
        value = (value << 4) | (unsigned int)digit;
    }
    *out = value;
    return 1;
}

static unsigned char *put_utf8(unsigned char *out, unsigned int cp) {
    if (cp < 0x80) {
        *out++ = (unsigned char)cp;
    } else if (cp < 0x800) {
        *out++ = (unsigned char)(0xC0 | (cp >> 6));
        *out++ = (unsigned char)(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        *out++ = (unsigned char)(0xE0 | (cp >> 12));
        *out++ = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        *out++ = (unsigned char)(0x80 | (cp & 0x3F));
    } else {
        *out++ = (unsigned char)(0xF0 | (cp >> 18));
        *out++ = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
        *out++ = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        *out++ = (unsigned char)(0x80 | (cp & 0x3F));
    }
    return out;
}

/* The length of the well-formed UTF-8 sequence starting at p (a byte >= 0x80), 0 if it is not one: the same
   bytes Python's strict decoder (and orjson) accept, so no overlong form, no surrogate, nothing past U+10FFFF. */
static Py_ssize_t utf8_sequence(const unsigned char *p, const unsigned char *limit) {
    Py_ssize_t left = limit - p;
    unsigned char c = p[0];
    if (c >= 0xC2 && c <= 0xDF) {
        return (left >= 2 && (p[1] & 0xC0) == 0x80) ? 2 : 0;
    }
    if (c >= 0xE0 && c <= 0xEF) {
        if (left < 3 || (p[2] & 0xC0) != 0x80) return 0;
        unsigned char low = 0x80, high = 0xBF;
        if (c == 0xE0) low = 0xA0;
        if (c == 0xED) high = 0x9F;
        return (p[1] >= low && p[1] <= high) ? 3 : 0;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        if (left < 4 || (p[2] & 0xC0) != 0x80 || (p[3] & 0xC0) != 0x80) return 0;
        unsigned char low = 0x80, high = 0xBF;
        if (c == 0xF0) low = 0x90;
        if (c == 0xF4) high = 0x8F;
        return (p[1] >= low && p[1] <= high) ? 4 : 0;
    }
    return 0;
}

/* Decode the JSON string whose body starts at p (after the opening quote) into out; on success, *after is the
   byte after the closing quote and the decoded length is returned. -1: not sure (the caller falls back). */
static Py_ssize_t decode_string(const unsigned char *p, const unsigned char *limit, unsigned char *out,
                                const unsigned char **after) {
    unsigned char *start = out;
    while (p < limit) {
        unsigned char c = *p;
        if (c == '"') {
            *after = p + 1;
            return out - start;
        }
        if (c >= 0x20 && c < 0x80 && c != '\\') {
            *out++ = c;
            p++;
            continue;
        }
        if (c >= 0x80) {
            Py_ssize_t n = utf8_sequence(p, limit);
            if (n == 0) return -1;
            memcpy(out, p, (size_t)n);
            out += n;
            p += n;
            continue;
        }
        if (c != '\\' || limit - p < 2) return -1; /* a control character, or a backslash at the end */
        unsigned char e = p[1];
        p += 2;
        switch (e) {
            case '"': *out++ = '"'; break;
            case '\\': *out++ = '\\'; break;
            case '/': *out++ = '/'; break;
            case 'b': *out++ = '\b'; break;
            case 'f': *out++ = '\f'; break;
            case 'n': *out++ = '\n'; break;
            case 'r': *out++ = '\r'; break;
            case 't': *out++ = '\t'; break;
            case 'u': {
                unsigned int cp;
                if (!read_hex4(p, limit, &cp)) return -1;
                p += 4;
                if (cp >= 0xDC00 && cp <= 0xDFFF) return -1; /* a low surrogate first */
                if (cp >= 0xD800 && cp <= 0xDBFF) {
                    unsigned int low;
                    if (limit - p < 6 || p[0] != '\\' || p[1] != 'u' || !read_hex4(p + 2, limit, &low)) return -1;
                    if (low < 0xDC00 || low > 0xDFFF) return -1;
                    p += 6;
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
                }
                out = put_utf8(out, cp);
                break;
            }
            default:
                return -1;
        }
    }
    return -1; /* no closing quote */
}

/* ---- the time ---------------------------------------------------------------------------------------------- */

static int digits(const unsigned char *p, int count, int *value) {
    int v = 0;
    for (int i = 0; i < count; i++) {
        if (p[i] < '0' || p[i] > '9') return 0;
        v = v * 10 + (p[i] - '0');
    }
    *value = v;
    return 1;
}

/* Days from 1970-01-01 to year-month-01 (proleptic Gregorian), as date(year, month, 1).toordinal() counts. */
static int64_t days_to_month(int64_t year, int month) {
    year -= month <= 2;
    int64_t era = (year >= 0 ? year : year - 399) / 400;
    int64_t year_of_era = year - era * 400;
    int64_t day_of_year = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5;
    int64_t day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    return era * 146097 + day_of_era - 719468;
}

/* `YYYY-MM-DDTHH:MM:SS[.F{1,9}]Z` in [p, limit) to ns, as parse_docker_time reads it (calendar.timegm: a day past
   the month's end runs into the next month, second 60 into the next minute). 0: another form (the caller falls
   back, so every odd case, and every out-of-range field, gets the Python answer). */
static int parse_time(const unsigned char *p, const unsigned char *limit, int64_t *ns) {
    Py_ssize_t length = limit - p;
    int year, month, day, hour, minute, second;
    if (length < 20 || p[4] != '-' || p[7] != '-' || p[10] != 'T' || p[13] != ':' || p[16] != ':') return 0;
    if (!digits(p, 4, &year) || !digits(p + 5, 2, &month) || !digits(p + 8, 2, &day) || !digits(p + 11, 2, &hour)
        || !digits(p + 14, 2, &minute) || !digits(p + 17, 2, &second))
        return 0;
    /* years where ns fit an int64 with room; the rest (and every invalid field) goes to Python */
    if (year < 1900 || year > 2200 || month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59
        || second > 60)
        return 0;
    int64_t nanos = 0;
    const unsigned char *q = p + 19;
    if (*q == '.') {
        q++;
        int count = 0;
        while (q < limit && *q >= '0' && *q <= '9') {
            if (count == 9) return 0; /* finer than ns: rare, Python's */
            nanos = nanos * 10 + (*q - '0');
            count++;
            q++;
        }
        if (count == 0) return 0;
        for (; count < 9; count++) nanos *= 10;
    }
    if (q + 1 != limit || *q != 'Z') return 0;
    int64_t days = days_to_month(year, month) + day - 1;
    int64_t seconds = ((days * 24 + hour) * 60 + minute) * 60 + second;
    *ns = seconds * NS_PER_SECOND + nanos;
    return 1;
}

/* ---- records ----------------------------------------------------------------------------------------------- */

#define LITERAL(s) ((const unsigned char *)(s)), (sizeof(s) - 1)

static int starts_with(const unsigned char *p, const unsigned char *limit, const unsigned char *text, size_t size) {
    return (size_t)(limit - p) >= size && memcmp(p, text, size) == 0;
}

/* Past the body of dockerd's `attrs` object (after its `{`): string keys to string values, which the decoder
   validates (into spare, past the decoded log: together no longer than the line); NULL for anything else. */
static const unsigned char *skip_attrs(const unsigned char *p, const unsigned char *limit, unsigned char *spare) {
    if (p < limit && *p == '}') return p + 1;
    for (;;) {
        for (int part = 0; part < 2; part++) { /* the key, then its value */
            if (p >= limit || *p != '"' || decode_string(p + 1, limit, spare, &p) < 0) return NULL;
            if (part == 0 && (p >= limit || *p++ != ':')) return NULL;
        }
        if (p >= limit) return NULL;
        if (*p == '}') return p + 1;
        if (*p++ != ',') return NULL;
    }
}

/* The FileLine of a record in dockerd's own shape, Py_None when its time is before `since`, NULL (no error set)
   when the record is not in that shape, NULL with an error set on a memory error. */
static PyObject *decode_record(const unsigned char *p, const unsigned char *limit, int64_t since, unsigned char *scratch) {
    if (!starts_with(p, limit, LITERAL("{\"log\":\""))) return NULL;
    p += 8;
    const unsigned char *after;
    Py_ssize_t size = decode_string(p, limit, scratch, &after);
    if (size < 0) return NULL;
    p = after;
    if (!starts_with(p, limit, LITERAL(",\"stream\":\"std"))) return NULL;
    p += 14;
    PyObject *stream;
    if (starts_with(p, limit, LITERAL("out\""))) {
        stream = stream_stdout;
    } else if (starts_with(p, limit, LITERAL("err\""))) {
        stream = stream_stderr;
    } else {
        return NULL;
    }
    p += 4;
    if (starts_with(p, limit, LITERAL(",\"attrs\":{"))) { /* log-opt labels/env: read past, as orjson does */
        p = skip_attrs(p + 10, limit, scratch + size);
        if (p == NULL) return NULL;
    }
    if (!starts_with(p, limit, LITERAL(",\"time\":\""))) return NULL;
    p += 9;
    if (limit - p < 2 || limit[-1] != '}' || limit[-2] != '"') return NULL;
    int64_t ns;
    if (!parse_time(p, limit - 2, &ns)) return NULL;
    if (ns < since) {
        Py_INCREF(Py_None);
        return Py_None;
    }
    int partial = size == 0 || scratch[size - 1] != '\n';
    PyObject *text = PyBytes_FromStringAndSize((const char *)scratch, partial ? size : size - 1);
    if (text == NULL) return NULL;
    PyObject *time_ns = PyLong_FromLongLong(ns);
    if (time_ns == NULL) {
        Py_DECREF(text);
        return NULL;
    }
    PyObject *line = PyTuple_New(4);
    if (line == NULL) {
        Py_DECREF(text);
        Py_DECREF(time_ns);
        return NULL;
    }
    Py_INCREF(stream);
    PyTuple_SET_ITEM(line, 0, stream);
    PyTuple_SET_ITEM(line, 1, time_ns);
    PyTuple_SET_ITEM(line, 2, text);
    PyObject *flag = partial ? Py_True : Py_False;
    Py_INCREF(flag);
    PyTuple_SET_ITEM(line, 3, flag);
    return line;
}

static int append_fallback(PyObject *lines, PyObject *fallback, const unsigned char *p, Py_ssize_t size,
                           PyObject *since) {
    PyObject *raw = PyBytes_FromStringAndSize((const char *)p, size);
    if (raw == NULL) return -1;
    PyObject *line = PyObject_CallFunctionObjArgs(fallback, raw, since, NULL);
    Py_DECREF(raw);
    if (line == NULL) return -1;
    int failed = line != Py_None && PyList_Append(lines, line) < 0;
    Py_DECREF(line);
    return failed ? -1 : 0;
}

static PyObject *decode_buffer(PyObject *Py_UNUSED(module), PyObject *args) {
    PyObject *chunk, *since_object, *fallback;
    Py_ssize_t end;
    if (!PyArg_ParseTuple(args, "SnOO:decode_buffer", &chunk, &end, &since_object, &fallback)) return NULL;
    if (end < 0 || end > PyBytes_GET_SIZE(chunk)) {
        PyErr_SetString(PyExc_ValueError, "end is outside the chunk");
        return NULL;
    }
    int overflow;
    long long since = PyLong_AsLongLongAndOverflow(since_object, &overflow);
    if (since == -1 && PyErr_Occurred()) return NULL;
    if (overflow) since = overflow > 0 ? LLONG_MAX : LLONG_MIN; /* beyond every time decoded here: same order */

    const unsigned char *data = (const unsigned char *)PyBytes_AS_STRING(chunk);
    const unsigned char *stop = data + end;
    /* a decoded string is never longer than its JSON form, so one line's worth of scratch is enough */
    Py_ssize_t longest = 0;
    for (const unsigned char *p = data;;) {
        const unsigned char *newline = memchr(p, '\n', (size_t)(stop - p));
        const unsigned char *line_end = newline ? newline : stop;
        if (line_end - p > longest) longest = line_end - p;
        if (newline == NULL) break;
        p = newline + 1;
    }
    unsigned char *scratch = PyMem_Malloc((size_t)longest + 1);
    PyObject *lines = PyList_New(0);
    if (scratch == NULL || lines == NULL) {
        PyMem_Free(scratch);
        Py_XDECREF(lines);
        return PyErr_NoMemory();
    }
    for (const unsigned char *p = data;;) {
        const unsigned char *newline = memchr(p, '\n', (size_t)(stop - p));
        const unsigned char *line_end = newline ? newline : stop;
        PyObject *line = decode_record(p, line_end, since, scratch);
        if (line == NULL) {
            if (PyErr_Occurred() || append_fallback(lines, fallback, p, line_end - p, since_object) < 0) goto error;
        } else if (line != Py_None) {
            int failed = PyList_Append(lines, line) < 0;
            Py_DECREF(line);
            if (failed) goto error;
        } else {
            Py_DECREF(line);
        }
        if (newline == NULL) break; /* the last line, as bytes.split gives one after the last separator */
        p = newline + 1;
    }
    PyMem_Free(scratch);
    return lines;
error:
    PyMem_Free(scratch);
    Py_DECREF(lines);
    return NULL;
}

/* One record (a trailing newline ignored), for the saved-log reader (logpipe/sources/file.py), which reads line
   by line: its FileLine, or None when it is not in dockerd's own shape (the caller decodes it itself). */
static PyObject *decode_line(PyObject *Py_UNUSED(module), PyObject *line) {
    if (!PyBytes_Check(line)) {
        PyErr_SetString(PyExc_TypeError, "decode_line takes bytes");
        return NULL;
    }
    const unsigned char *p = (const unsigned char *)PyBytes_AS_STRING(line);
    Py_ssize_t size = PyBytes_GET_SIZE(line);
    if (size > 0 && p[size - 1] == '\n') size--;
    unsigned char on_stack[4096];
    unsigned char *scratch = size <= (Py_ssize_t)sizeof(on_stack) ? on_stack : PyMem_Malloc((size_t)size);
    if (scratch == NULL) return PyErr_NoMemory();
    PyObject *decoded = decode_record(p, p + size, INT64_MIN, scratch);
    if (scratch != on_stack) PyMem_Free(scratch);
    if (decoded == NULL && !PyErr_Occurred()) Py_RETURN_NONE;
    return decoded; /* never Py_None from decode_record: no time is before INT64_MIN */
}

static PyMethodDef methods[] = {
    {"decode_buffer", decode_buffer, METH_VARARGS,
     "decode_buffer(chunk, end, since, fallback) -> list of (stream id, time ns, text, partial?) for the json-file "
     "records of chunk[:end]; fallback(line, since) decodes a record not in dockerd's own shape."},
    {"decode_line", decode_line, METH_O,
     "decode_line(line) -> (stream id, time ns, text, partial?) of one record in dockerd's own shape, else None."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module_definition = {
    .m_base = PyModuleDef_HEAD_INIT,
    .m_name = "logpipe.sources.docker._jsonfile",
    .m_doc = "Docker's json-file records decoded a read buffer at a time (the twin of jsonfile.decode_buffer_python).",
    .m_size = -1,
    .m_methods = methods,
};

PyMODINIT_FUNC PyInit__jsonfile(void) {
    stream_stdout = PyLong_FromLong(1);
    stream_stderr = PyLong_FromLong(2);
    if (stream_stdout == NULL || stream_stderr == NULL) return NULL;
    return PyModule_Create(&module_definition);
}
