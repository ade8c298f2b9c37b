/* kombu_dash._speedups: the C engine's two walks (see kombu_dash/engines/c.py).
 *
 *   Walker(...)                  built once per codec, with the wire's values and the
 *                                codec's callbacks (keyword arguments, all required)
 *   Walker.encode(obj)           -> obj as plain JSON data, typed values as their tags'
 *                                objects; containers are copied only where a value
 *                                below them changed
 *   Walker.decode(obj, budget)   -> freshly parsed JSON data with its tags replaced by
 *                                their values, in place
 *
 * The contract: these are the Python engine's walks (kombu_dash/engines/python.py),
 * step for step, and tests/test_engines.py holds the two to the same data, values and
 * errors. This file knows no tag and no rule of the wire of its own: the tag prefix, the
 * integer range and the depth limit are handed in from kombu_dash/wire.py, and every
 * value that is not plain JSON data goes to the codec's registry (write/read) or to the
 * single call a tag lent for it (the fast tables). An error raised by a callback travels
 * up with its path: each container puts its key or index in front (the error's
 * _prepend), as the Python engine does. Any other failure is a bug and propagates.
 *
 * Every object used across a call back into Python is owned (a strong reference): a
 * callback may change the fast tables or the containers being walked.
 */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>

typedef struct {
    PyObject_HEAD
    Py_UCS4 prefix;               /* what starts a tag's member name */
    long long int_min;            /* integers written as JSON numbers */
    unsigned long long int_max;
    long max_depth;               /* deepest nesting; a tag's object is a level */
    PyObject *error;              /* KombuDashError: the errors whose path the walk extends */
    PyObject *write;              /* write(value) -> (wire key or None, payload) */
    PyObject *write_fast;         /* {class: (wire key, write)} */
    PyObject *read;               /* read(wire key, payload, budget) -> value */
    PyObject *read_fast;          /* {wire key: (payload type, read)} */
    PyObject *payload_types;      /* {wire key: payload type}: the tags there are */
    PyObject *too_deep;           /* too_deep(decoding): raises */
    PyObject *changed;            /* changed(container): raises */
    PyObject *unwind_tag;         /* unwind_tag(error, wire key, payload): fixes its path */
} Walker;

#define RECURSION " in kombu_dash._speedups"

/* ------------------------------------------------------------- errors */

/* Call `hook(args...)`, which must raise; its error is the walk's. */
static PyObject *
raise_through(PyObject *hook, PyObject *arg)
{
    PyObject *res = PyObject_CallOneArg(hook, arg);
    if (res != NULL) {
        Py_DECREF(res);
        PyErr_SetString(PyExc_SystemError, "kombu_dash._speedups: a raising hook returned");
    }
    return NULL;
}

/* An error is leaving a container through `segment` (its key or index), or leaving the
   tag `key` whose payload is `payload` (segment NULL): an error of ours learns where. */
static void
error_passes(Walker *w, PyObject *segment, PyObject *key, PyObject *payload)
{
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    PyErr_NormalizeException(&type, &value, &tb);
    if (value == NULL) {
        PyErr_Restore(type, value, tb);
        return;
    }
    int ours = PyObject_IsInstance(value, w->error);
    PyObject *res = NULL;
    if (ours == 1) {
        res = segment != NULL
                  ? PyObject_CallMethod(value, "_prepend", "O", segment)
                  : PyObject_CallFunctionObjArgs(w->unwind_tag, value, key, payload, NULL);
    }
    if (ours < 0 || (ours == 1 && res == NULL)) {
        /* failing to add the path replaced the error: report that one */
        Py_XDECREF(type);
        Py_XDECREF(value);
        Py_XDECREF(tb);
        return;
    }
    Py_XDECREF(res);
    PyErr_Restore(type, value, tb);
}

/* error_passes for a list index (made into an int with the error set aside). */
static void
error_at_index(Walker *w, Py_ssize_t i)
{
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    PyObject *index = PyLong_FromSsize_t(i);
    if (index == NULL) {
        Py_XDECREF(type);
        Py_XDECREF(value);
        Py_XDECREF(tb);
        return;
    }
    PyErr_Restore(type, value, tb);
    error_passes(w, index, NULL, NULL);
    Py_DECREF(index);
}

/* ------------------------------------------------------------- the wire's rules */

static int
is_tag_key(Walker *w, PyObject *name)
{
    return PyUnicode_Check(name) && PyUnicode_GET_LENGTH(name) > 0 &&
           PyUnicode_READ_CHAR(name, 0) == w->prefix;
}

/* 1 if the int is written as a JSON number, 0 if it takes its tag, -1 on error */
static int
int_fits(Walker *w, PyObject *obj)
{
    int overflow = 0;
    long long v = PyLong_AsLongLongAndOverflow(obj, &overflow);
    if (v == -1 && PyErr_Occurred()) {
        return -1;
    }
    if (overflow == 0) {
        return v >= w->int_min && (v < 0 || (unsigned long long)v <= w->int_max);
    }
    if (overflow < 0) {
        return 0; /* below LLONG_MIN, and int_min is at least that */
    }
    unsigned long long u = PyLong_AsUnsignedLongLong(obj);
    if (u == (unsigned long long)-1 && PyErr_Occurred()) {
        if (!PyErr_ExceptionMatches(PyExc_OverflowError)) {
            return -1;
        }
        PyErr_Clear();
        return 0;
    }
    return u <= w->int_max;
}

/* whether a dict is written as a JSON object: str keys, and not one key a tag would have */
static int
dict_fits(Walker *w, PyObject *obj)
{
    Py_ssize_t pos = 0, n = PyDict_GET_SIZE(obj);
    PyObject *key, *value;
    while (PyDict_Next(obj, &pos, &key, &value)) {
        if (!PyUnicode_CheckExact(key) || (n == 1 && is_tag_key(w, key))) {
            return 0;
        }
    }
    return 1;
}

/* ------------------------------------------------------------- encoding */

static PyObject *encode_value(Walker *w, PyObject *obj, long depth);

/* A value that is not plain JSON data, through the registry: {wire key: payload}, or the
   payload itself for a plain tag. by_class: the fast table may hold its class (an int,
   float or dict is tagged by its value, never by class). */
static PyObject *
encode_tagged(Walker *w, PyObject *obj, long depth, int by_class)
{
    PyObject *key = NULL, *payload = NULL, *out = NULL;
    if (by_class) {
        PyObject *entry = PyDict_GetItemWithError(w->write_fast, (PyObject *)Py_TYPE(obj));
        if (entry == NULL && PyErr_Occurred()) {
            return NULL;
        }
        if (entry != NULL) {
            Py_INCREF(entry);
            if (!PyTuple_CheckExact(entry) || PyTuple_GET_SIZE(entry) != 2) {
                Py_DECREF(entry);
                PyErr_SetString(PyExc_TypeError, "write_fast entries are (wire key, write)");
                return NULL;
            }
            payload = PyObject_CallOneArg(PyTuple_GET_ITEM(entry, 1), obj);
            if (payload != NULL) {
                key = Py_NewRef(PyTuple_GET_ITEM(entry, 0));
            }
            else if (PyErr_ExceptionMatches(PyExc_Exception)) {
                PyErr_Clear(); /* the registry's own call below says what is wrong */
            }
            Py_DECREF(entry);
            if (payload == NULL && PyErr_Occurred()) {
                return NULL;
            }
        }
    }
    if (payload == NULL) {
        PyObject *res = PyObject_CallOneArg(w->write, obj);
        if (res == NULL) {
            return NULL;
        }
        if (!PyTuple_CheckExact(res) || PyTuple_GET_SIZE(res) != 2) {
            Py_DECREF(res);
            PyErr_SetString(PyExc_TypeError, "write must return (wire key or None, payload)");
            return NULL;
        }
        key = Py_NewRef(PyTuple_GET_ITEM(res, 0));
        payload = Py_NewRef(PyTuple_GET_ITEM(res, 1));
        Py_DECREF(res);
    }
    if (key != Py_None && !PyUnicode_CheckExact(key)) {
        PyErr_SetString(PyExc_TypeError, "a wire key is a str (or None for a plain tag)");
        goto done;
    }
    /* a plain tag's payload stays at this level, so only the C stack would bound a tag
       that returns a value of its own type: guarded as Python guards its calls */
    if (Py_EnterRecursiveCall(RECURSION)) {
        goto done;
    }
    if (key == Py_None) {
        out = encode_value(w, payload, depth);
    }
    else if (depth > w->max_depth) { /* {"~tag": ...} is itself a level */
        raise_through(w->too_deep, Py_False);
    }
    else {
        PyObject *inner = encode_value(w, payload, depth + 1);
        if (inner == NULL) {
            error_passes(w, NULL, key, payload);
        }
        else {
            out = PyDict_New();
            if (out != NULL && PyDict_SetItem(out, key, inner) < 0) {
                Py_CLEAR(out);
            }
            Py_DECREF(inner);
        }
    }
    Py_LeaveRecursiveCall();
done:
    Py_DECREF(key);
    Py_DECREF(payload);
    return out;
}

/* Once a value changed, the copy takes every later value as walked (as the Python
   engine appends each one). */
static PyObject *
encode_list(Walker *w, PyObject *obj, long depth)
{
    Py_ssize_t n = PyList_GET_SIZE(obj);
    PyObject *copy = NULL;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *item = Py_NewRef(PyList_GET_ITEM(obj, i));
        PyObject *wire = encode_value(w, item, depth + 1);
        if (wire == NULL) {
            error_at_index(w, i);
            goto fail_item;
        }
        if (PyList_GET_SIZE(obj) != n) { /* a callback changed the list being walked */
            Py_DECREF(wire);
            raise_through(w->changed, obj);
            goto fail_item;
        }
        if (copy == NULL && wire != item) {
            copy = PyList_GetSlice(obj, 0, n);
            if (copy == NULL) {
                Py_DECREF(wire);
                goto fail_item;
            }
        }
        Py_DECREF(item);
        if (copy != NULL) {
            PyList_SetItem(copy, i, wire); /* steals wire */
        }
        else {
            Py_DECREF(wire);
        }
        continue;
    fail_item:
        Py_DECREF(item);
        Py_XDECREF(copy);
        return NULL;
    }
    return copy != NULL ? copy : Py_NewRef(obj);
}

/* A dict: the escape if the wire cannot hold it as an object, else its values walked
   (a copy once one changes, taking every later value as walked). */
static PyObject *
encode_dict(Walker *w, PyObject *obj, long depth)
{
    if (!dict_fits(w, obj)) {
        return encode_tagged(w, obj, depth, 0); /* the escape */
    }
    Py_ssize_t pos = 0, n = PyDict_GET_SIZE(obj);
    PyObject *key, *value, *copy = NULL;
    while (PyDict_Next(obj, &pos, &key, &value)) {
        Py_INCREF(key);
        Py_INCREF(value);
        PyObject *wire = encode_value(w, value, depth + 1);
        int failed = wire == NULL;
        if (failed) {
            error_passes(w, key, NULL, NULL);
        }
        else if (PyDict_GET_SIZE(obj) != n) { /* a callback changed the dict being walked */
            raise_through(w->changed, obj);
            failed = 1;
        }
        else {
            if (copy == NULL && wire != value) {
                copy = PyDict_Copy(obj);
            }
            failed = (copy == NULL && wire != value) ||
                     (copy != NULL && PyDict_SetItem(copy, key, wire) < 0);
        }
        Py_DECREF(key);
        Py_DECREF(value);
        Py_XDECREF(wire);
        if (failed) {
            Py_XDECREF(copy);
            return NULL;
        }
    }
    return copy != NULL ? copy : Py_NewRef(obj);
}

/* One value as plain JSON data (PythonEngine._enc): scalars as they are, containers
   walked, anything else through the registry. */
static PyObject *
encode_value(Walker *w, PyObject *obj, long depth)
{
    PyTypeObject *t = Py_TYPE(obj);
    if (t == &PyUnicode_Type || t == &PyBool_Type || obj == Py_None) {
        return Py_NewRef(obj);
    }
    if (t == &PyLong_Type) {
        int fits = int_fits(w, obj);
        if (fits < 0) {
            return NULL;
        }
        return fits ? Py_NewRef(obj) : encode_tagged(w, obj, depth, 0);
    }
    if (t == &PyFloat_Type) {
        return isfinite(PyFloat_AS_DOUBLE(obj)) ? Py_NewRef(obj) : encode_tagged(w, obj, depth, 0);
    }
    if (t == &PyList_Type || t == &PyDict_Type) {
        if (depth > w->max_depth) {
            return raise_through(w->too_deep, Py_False);
        }
        if (Py_EnterRecursiveCall(RECURSION)) {
            return NULL;
        }
        PyObject *out = t == &PyList_Type ? encode_list(w, obj, depth)
                                          : encode_dict(w, obj, depth);
        Py_LeaveRecursiveCall();
        return out;
    }
    return encode_tagged(w, obj, depth, 1); /* any other class: through the registry */
}

/* ------------------------------------------------------------- decoding */

static PyObject *decode_value(Walker *w, PyObject *obj, long depth, PyObject *budget);

/* The registry's read: the tag's value, or the DecodeError that says what is wrong. */
static PyObject *
call_read(Walker *w, PyObject *key, PyObject *payload, PyObject *budget)
{
    return PyObject_CallFunctionObjArgs(w->read, key, payload, budget, NULL);
}

/* {key: raw}, a tag: checked before its payload is decoded (an unknown tag, or a payload
   of the wrong JSON type, costs nothing more: only an object can become another type) */
static PyObject *
decode_tag(Walker *w, PyObject *key, PyObject *raw, long depth, PyObject *budget)
{
    PyObject *out = NULL, *payload = NULL;
    PyObject *expected = PyDict_GetItemWithError(w->payload_types, key);
    if (expected == NULL) {
        return PyErr_Occurred() ? NULL : call_read(w, key, raw, budget); /* raises */
    }
    if (expected != (PyObject *)&PyDict_Type && (PyObject *)Py_TYPE(raw) != expected) {
        return call_read(w, key, raw, budget); /* raises */
    }
    if (PyList_CheckExact(raw) || PyDict_CheckExact(raw)) {
        payload = decode_value(w, raw, depth + 1, budget);
        if (payload == NULL) {
            return NULL;
        }
    }
    else {
        payload = Py_NewRef(raw);
    }
    PyObject *entry = PyDict_GetItemWithError(w->read_fast, key);
    if (entry == NULL && PyErr_Occurred()) {
        goto done;
    }
    if (entry != NULL) {
        Py_INCREF(entry);
        if (!PyTuple_CheckExact(entry) || PyTuple_GET_SIZE(entry) != 2) {
            Py_DECREF(entry);
            PyErr_SetString(PyExc_TypeError, "read_fast entries are (payload type, read)");
            goto done;
        }
        if ((PyObject *)Py_TYPE(payload) == PyTuple_GET_ITEM(entry, 0)) {
            out = PyObject_CallOneArg(PyTuple_GET_ITEM(entry, 1), payload);
            if (out == NULL && PyErr_ExceptionMatches(PyExc_Exception)) {
                PyErr_Clear(); /* the registry's own call below says what is wrong */
            }
        }
        Py_DECREF(entry);
        if (out != NULL || PyErr_Occurred()) {
            goto done;
        }
    }
    out = call_read(w, key, payload, budget);
done:
    Py_DECREF(payload);
    return out;
}

/* Each container in a parsed array, decoded in place. */
static PyObject *
decode_list(Walker *w, PyObject *obj, long depth, PyObject *budget)
{
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(obj); i++) {
        PyObject *item = PyList_GET_ITEM(obj, i);
        if (!PyList_CheckExact(item) && !PyDict_CheckExact(item)) {
            continue;
        }
        Py_INCREF(item);
        PyObject *done = decode_value(w, item, depth + 1, budget);
        Py_DECREF(item);
        if (done == NULL) {
            error_at_index(w, i);
            return NULL;
        }
        if (i < PyList_GET_SIZE(obj)) {
            PyList_SetItem(obj, i, done); /* steals done */
        }
        else {
            Py_DECREF(done);
        }
    }
    return Py_NewRef(obj);
}

/* A parsed object: a tag (one member, its name starting with the prefix), or each of
   its container values decoded in place. */
static PyObject *
decode_dict(Walker *w, PyObject *obj, long depth, PyObject *budget)
{
    Py_ssize_t pos = 0;
    PyObject *key, *value;
    if (PyDict_GET_SIZE(obj) == 1) {
        PyDict_Next(obj, &pos, &key, &value);
        if (is_tag_key(w, key)) {
            Py_INCREF(key);
            Py_INCREF(value);
            PyObject *out = decode_tag(w, key, value, depth, budget);
            Py_DECREF(key);
            Py_DECREF(value);
            return out;
        }
        pos = 0;
    }
    while (PyDict_Next(obj, &pos, &key, &value)) {
        if (!PyList_CheckExact(value) && !PyDict_CheckExact(value)) {
            continue;
        }
        Py_INCREF(key);
        Py_INCREF(value);
        PyObject *done = decode_value(w, value, depth + 1, budget);
        /* replacing the value of a key already there keeps PyDict_Next valid */
        int failed = done == NULL;
        if (failed) {
            error_passes(w, key, NULL, NULL);
        }
        else if (done != value) {
            failed = PyDict_SetItem(obj, key, done) < 0;
        }
        Py_DECREF(key);
        Py_DECREF(value);
        Py_XDECREF(done);
        if (failed) {
            return NULL;
        }
    }
    return Py_NewRef(obj);
}

/* A parsed container (list or dict), within the depth limit and the C stack's. */
static PyObject *
decode_value(Walker *w, PyObject *obj, long depth, PyObject *budget)
{
    if (depth > w->max_depth) {
        return raise_through(w->too_deep, Py_True);
    }
    if (Py_EnterRecursiveCall(RECURSION)) {
        return NULL;
    }
    PyObject *out = PyList_CheckExact(obj) ? decode_list(w, obj, depth, budget)
                                           : decode_dict(w, obj, depth, budget);
    Py_LeaveRecursiveCall();
    return out;
}

/* ------------------------------------------------------------- the Walker type */

static PyObject *
Walker_encode(Walker *w, PyObject *obj)
{
    return encode_value(w, obj, 1);
}

static PyObject *
Walker_decode(Walker *w, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "decode(obj, budget)");
        return NULL;
    }
    if (!PyList_CheckExact(args[0]) && !PyDict_CheckExact(args[0])) {
        return Py_NewRef(args[0]);
    }
    return decode_value(w, args[0], 1, args[1]);
}

/* Walker(**rules_and_callbacks): checked once here, so the walks need not. */
static PyObject *
Walker_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    static char *names[] = {"prefix", "int_min", "int_max", "max_depth", "error",
                            "write", "write_fast", "read", "read_fast", "payload_types",
                            "too_deep", "changed", "unwind_tag", NULL};
    PyObject *prefix = NULL, *int_min = NULL, *int_max = NULL, *max_depth = NULL;
    PyObject *error = NULL, *write = NULL, *write_fast = NULL, *read = NULL;
    PyObject *read_fast = NULL, *payload_types = NULL, *too_deep = NULL, *changed = NULL;
    PyObject *unwind_tag = NULL;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "|$OOOOOOOOOOOOO:Walker", names, &prefix,
                                     &int_min, &int_max, &max_depth, &error, &write,
                                     &write_fast, &read, &read_fast, &payload_types,
                                     &too_deep, &changed, &unwind_tag)) {
        return NULL;
    }
    PyObject *all[] = {prefix, int_min, int_max, max_depth, error, write, write_fast,
                       read, read_fast, payload_types, too_deep, changed, unwind_tag};
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
        if (all[i] == NULL) {
            PyErr_Format(PyExc_TypeError, "Walker() needs %s", names[i]);
            return NULL;
        }
    }
    if (!PyUnicode_Check(prefix) || PyUnicode_GET_LENGTH(prefix) != 1) {
        PyErr_SetString(PyExc_ValueError, "prefix must be one character");
        return NULL;
    }
    if (!PyDict_CheckExact(write_fast) || !PyDict_CheckExact(read_fast) ||
        !PyDict_CheckExact(payload_types)) {
        PyErr_SetString(PyExc_TypeError, "the tables must be dicts");
        return NULL;
    }
    if (!PyType_Check(error) || !PyType_IsSubtype((PyTypeObject *)error,
                                                  (PyTypeObject *)PyExc_BaseException)) {
        PyErr_SetString(PyExc_TypeError, "error must be an exception class");
        return NULL;
    }
    PyObject *hooks[] = {write, read, too_deep, changed, unwind_tag};
    for (size_t i = 0; i < sizeof(hooks) / sizeof(hooks[0]); i++) {
        if (!PyCallable_Check(hooks[i])) {
            PyErr_SetString(PyExc_TypeError, "the callbacks must be callable");
            return NULL;
        }
    }
    long long lo = PyLong_AsLongLong(int_min);
    if (lo == -1 && PyErr_Occurred()) {
        return NULL;
    }
    unsigned long long hi = PyLong_AsUnsignedLongLong(int_max);
    if (hi == (unsigned long long)-1 && PyErr_Occurred()) {
        return NULL;
    }
    long depth = PyLong_AsLong(max_depth);
    if (depth == -1 && PyErr_Occurred()) {
        return NULL;
    }
    if (lo > 0 || depth < 1) {
        PyErr_SetString(PyExc_ValueError, "need int_min <= 0 <= int_max and max_depth >= 1");
        return NULL;
    }
    Walker *w = (Walker *)type->tp_alloc(type, 0);
    if (w == NULL) {
        return NULL;
    }
    w->prefix = PyUnicode_READ_CHAR(prefix, 0);
    w->int_min = lo;
    w->int_max = hi;
    w->max_depth = depth;
    w->error = Py_NewRef(error);
    w->write = Py_NewRef(write);
    w->write_fast = Py_NewRef(write_fast);
    w->read = Py_NewRef(read);
    w->read_fast = Py_NewRef(read_fast);
    w->payload_types = Py_NewRef(payload_types);
    w->too_deep = Py_NewRef(too_deep);
    w->changed = Py_NewRef(changed);
    w->unwind_tag = Py_NewRef(unwind_tag);
    return (PyObject *)w;
}

/* The callbacks are the codec's bound methods and the codec holds its engine: a cycle
   the garbage collector must see. */
static int
Walker_traverse(Walker *w, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(w));
    Py_VISIT(w->error);
    Py_VISIT(w->write);
    Py_VISIT(w->write_fast);
    Py_VISIT(w->read);
    Py_VISIT(w->read_fast);
    Py_VISIT(w->payload_types);
    Py_VISIT(w->too_deep);
    Py_VISIT(w->changed);
    Py_VISIT(w->unwind_tag);
    return 0;
}

static int
Walker_clear(Walker *w)
{
    Py_CLEAR(w->error);
    Py_CLEAR(w->write);
    Py_CLEAR(w->write_fast);
    Py_CLEAR(w->read);
    Py_CLEAR(w->read_fast);
    Py_CLEAR(w->payload_types);
    Py_CLEAR(w->too_deep);
    Py_CLEAR(w->changed);
    Py_CLEAR(w->unwind_tag);
    return 0;
}

static void
Walker_dealloc(Walker *w)
{
    PyTypeObject *type = Py_TYPE(w);
    PyObject_GC_UnTrack(w);
    Walker_clear(w);
    type->tp_free((PyObject *)w);
    Py_DECREF(type);
}

static PyMethodDef Walker_methods[] = {
    {"encode", (PyCFunction)Walker_encode, METH_O,
     "encode(obj): obj as plain JSON data, typed values as their tags' objects."},
    {"decode", (PyCFunction)(void (*)(void))Walker_decode, METH_FASTCALL,
     "decode(obj, budget): freshly parsed JSON data, its tags replaced, in place."},
    {NULL, NULL, 0, NULL},
};

static PyType_Slot Walker_slots[] = {
    {Py_tp_doc, "The C engine's walks for one codec (see kombu_dash/engines/c.py)."},
    {Py_tp_new, Walker_new},
    {Py_tp_dealloc, Walker_dealloc},
    {Py_tp_traverse, Walker_traverse},
    {Py_tp_clear, Walker_clear},
    {Py_tp_methods, Walker_methods},
    {0, NULL},
};

static PyType_Spec Walker_spec = {
    "kombu_dash._speedups.Walker",
    sizeof(Walker),
    0,
    Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_IMMUTABLETYPE,
    Walker_slots,
};

/* ------------------------------------------------------------- module (PEP 489) */

static int
exec_module(PyObject *module)
{
    PyObject *type = PyType_FromModuleAndSpec(module, &Walker_spec, NULL);
    if (type == NULL) {
        return -1;
    }
    int failed = PyModule_AddObjectRef(module, "Walker", type) < 0;
    Py_DECREF(type);
    return failed ? -1 : 0;
}

static PyModuleDef_Slot module_slots[] = {
    {Py_mod_exec, exec_module},
#if PY_VERSION_HEX >= 0x030C0000
    {Py_mod_multiple_interpreters, Py_MOD_PER_INTERPRETER_GIL_SUPPORTED},
#endif
    {0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT,
    "kombu_dash._speedups",
    "The C engine's walks (optional; kombu_dash/engines/python.py is the reference).",
    0,
    NULL,
    module_slots,
    NULL,
    NULL,
    NULL,
};

PyMODINIT_FUNC
PyInit__speedups(void)
{
    return PyModuleDef_Init(&module_def);
}
