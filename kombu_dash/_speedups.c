/* kombu_dash._speedups: the two tree walks of the codec, in C (optional).
 *
 * Both walks only *find*: every tag is still applied by the codec's Python code,
 * through the registry (the callbacks below), and on any error the codec runs its
 * pure-Python walk again from the start, which says what is wrong and where (the path).
 * So this module decides nothing about the wire format; tests/test_property.py checks
 * that the codec writes the same bytes, and decodes the same values, with and without it.
 *
 *   to_wire(obj, tagger, max_depth, fast) -> the value as plain JSON data
 *       Exact str/bool/None, ints within 64 bits, finite floats, lists, and dicts with
 *       str keys (other than one key starting with "~") are kept; everything else is
 *       passed to tagger(value) -> (wire_key or None, payload), and the payload is walked
 *       in turn ({wire_key: payload}, or the payload itself for a plain tag). Containers
 *       are copied only where something below them changed. Raises DepthError past
 *       max_depth (the codec's walk then gives the error).
 *
 *   untag(obj, build, state, max_depth, fast) -> obj with its tags replaced, bottom-up
 *       Freshly parsed JSON (exact lists and dicts) is changed in place: every object
 *       with exactly one member whose name starts with "~" is replaced by
 *       build(name, payload, state), its payload already untagged.
 *
 *   ``fast`` holds single calls the codec learned from the registry (Tag.fast_write and
 *   Tag.fast_read: ``list`` and ``tuple`` for a tuple): {class: (wire_key, write)} for
 *   to_wire, {name: (payload_type, read)} for untag. They skip a Python frame per value.
 */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>

static PyObject *DepthError;

/* ---------------------------------------------------------------- to_wire */

/* the arguments every call of the encoding walk shares */
typedef struct {
    PyObject *tagger;   /* tagger(value) -> (wire_key or None, payload) */
    PyObject *fast;     /* {class: (wire_key, write)}: write(value) is the payload */
    long max_depth;
} Enc;

static PyObject *to_wire(PyObject *obj, Enc *enc, long depth);

static int
is_tag_key(PyObject *key)
{
    return PyUnicode_Check(key) && PyUnicode_GET_LENGTH(key) > 0 &&
           PyUnicode_READ_CHAR(key, 0) == '~';
}

static int
int_fits(PyObject *obj)
{
    /* what JSON libraries carry natively: -2**63 .. 2**64-1 */
    int overflow = 0;
    PyLong_AsLongLongAndOverflow(obj, &overflow);
    if (overflow == 0) {
        return !PyErr_Occurred();
    }
    if (overflow < 0) {
        return 0;
    }
    PyLong_AsUnsignedLongLong(obj);
    if (PyErr_Occurred()) {
        PyErr_Clear();
        return 0;
    }
    return 1;
}

static PyObject *
tagged(PyObject *obj, Enc *enc, long depth, int by_class)
{
    PyObject *res;
    /* a class the registry lent a single call for: no tagger call (by_class: not an
       int, float or dict, whose tag is chosen by value) */
    PyObject *fast = by_class ? PyDict_GetItemWithError(enc->fast, (PyObject *)Py_TYPE(obj))
                              : NULL;
    if (fast != NULL) {
        PyObject *payload = PyObject_CallOneArg(PyTuple_GET_ITEM(fast, 1), obj);
        if (payload == NULL) {
            return NULL;
        }
        res = PyTuple_Pack(2, PyTuple_GET_ITEM(fast, 0), payload);
        Py_DECREF(payload);
    }
    else if (PyErr_Occurred()) {
        return NULL;
    }
    else {
        res = PyObject_CallOneArg(enc->tagger, obj);
    }
    if (res == NULL) {
        return NULL;
    }
    if (!PyTuple_CheckExact(res) || PyTuple_GET_SIZE(res) != 2) {
        Py_DECREF(res);
        PyErr_SetString(PyExc_TypeError, "tagger must return (key, payload)");
        return NULL;
    }
    PyObject *key = PyTuple_GET_ITEM(res, 0);
    PyObject *payload = PyTuple_GET_ITEM(res, 1);
    PyObject *out;
    /* a plain tag's payload stays at this level: only the C stack bounds a tag that
       returns a value of its own type, so guard it as Python guards its calls */
    if (Py_EnterRecursiveCall(" in kombu_dash._speedups.to_wire")) {
        Py_DECREF(res);
        return NULL;
    }
    if (key == Py_None) { /* a plain tag: its payload, untagged, at the same level */
        out = to_wire(payload, enc, depth);
    }
    else if (depth > enc->max_depth) { /* {"~tag": ...} is itself one level */
        PyErr_SetString(DepthError, "nesting deeper than max_depth");
        out = NULL;
    }
    else {
        PyObject *inner = to_wire(payload, enc, depth + 1);
        out = NULL;
        if (inner != NULL) {
            out = PyDict_New();
            if (out != NULL && PyDict_SetItem(out, key, inner) < 0) {
                Py_CLEAR(out);
            }
            Py_DECREF(inner);
        }
    }
    Py_LeaveRecursiveCall();
    Py_DECREF(res);
    return out;
}

static PyObject *
list_to_wire(PyObject *obj, Enc *enc, long depth)
{
    PyObject *copy = NULL;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(obj); i++) {
        PyObject *item = PyList_GET_ITEM(obj, i);
        Py_INCREF(item);
        PyObject *wire = to_wire(item, enc, depth + 1);
        if (wire == NULL) {
            Py_DECREF(item);
            Py_XDECREF(copy);
            return NULL;
        }
        if (wire != item && copy == NULL) {
            copy = PyList_GetSlice(obj, 0, PyList_GET_SIZE(obj));
            if (copy == NULL) {
                Py_DECREF(item);
                Py_DECREF(wire);
                return NULL;
            }
        }
        Py_DECREF(item);
        if (copy != NULL && i < PyList_GET_SIZE(copy)) {
            PyList_SetItem(copy, i, wire); /* steals wire */
        }
        else {
            Py_DECREF(wire);
        }
    }
    if (copy != NULL) {
        return copy;
    }
    return Py_NewRef(obj);
}

static PyObject *
dict_to_wire(PyObject *obj, Enc *enc, long depth)
{
    Py_ssize_t pos = 0;
    PyObject *key, *value;
    /* keys JSON objects cannot hold, or one key that would read back as a tag: ~dict */
    if (PyDict_GET_SIZE(obj) == 1) {
        PyDict_Next(obj, &pos, &key, &value);
        if (!PyUnicode_CheckExact(key) || is_tag_key(key)) {
            return tagged(obj, enc, depth, 0);
        }
        pos = 0;
    }
    else {
        while (PyDict_Next(obj, &pos, &key, &value)) {
            if (!PyUnicode_CheckExact(key)) {
                return tagged(obj, enc, depth, 0);
            }
        }
        pos = 0;
    }
    PyObject *copy = NULL;
    while (PyDict_Next(obj, &pos, &key, &value)) {
        Py_INCREF(key);
        Py_INCREF(value);
        PyObject *wire = to_wire(value, enc, depth + 1);
        int failed = wire == NULL;
        if (!failed && wire != value) {
            if (copy == NULL) {
                copy = PyDict_Copy(obj);
            }
            failed = copy == NULL || PyDict_SetItem(copy, key, wire) < 0;
        }
        Py_DECREF(key);
        Py_DECREF(value);
        Py_XDECREF(wire);
        if (failed) {
            Py_XDECREF(copy);
            return NULL;
        }
    }
    if (copy != NULL) {
        return copy;
    }
    return Py_NewRef(obj);
}

static PyObject *
to_wire(PyObject *obj, Enc *enc, long depth)
{
    PyTypeObject *t = Py_TYPE(obj);
    if (t == &PyUnicode_Type || t == &PyBool_Type || obj == Py_None) {
        return Py_NewRef(obj);
    }
    if (t == &PyLong_Type) {
        if (int_fits(obj)) {
            return Py_NewRef(obj);
        }
        if (PyErr_Occurred()) {
            return NULL;
        }
        return tagged(obj, enc, depth, 0);
    }
    if (t == &PyFloat_Type) {
        if (isfinite(PyFloat_AS_DOUBLE(obj))) {
            return Py_NewRef(obj);
        }
        return tagged(obj, enc, depth, 0);
    }
    if (t == &PyList_Type || t == &PyDict_Type) {
        if (depth > enc->max_depth) {
            PyErr_SetString(DepthError, "nesting deeper than max_depth");
            return NULL;
        }
        if (Py_EnterRecursiveCall(" in kombu_dash._speedups.to_wire")) {
            return NULL;
        }
        PyObject *out = t == &PyList_Type ? list_to_wire(obj, enc, depth)
                                          : dict_to_wire(obj, enc, depth);
        Py_LeaveRecursiveCall();
        return out;
    }
    return tagged(obj, enc, depth, 1);
}

static PyObject *
py_to_wire(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 4 || !PyDict_CheckExact(args[3])) {
        PyErr_SetString(PyExc_TypeError, "to_wire(obj, tagger, max_depth, fast: dict)");
        return NULL;
    }
    Enc enc = {args[1], args[3], PyLong_AsLong(args[2])};
    if (enc.max_depth == -1 && PyErr_Occurred()) {
        return NULL;
    }
    return to_wire(args[0], &enc, 1);
}

/* ------------------------------------------------------------------ untag */

/* the arguments every call of the decoding walk shares */
typedef struct {
    PyObject *build;    /* build(name, payload, state) -> the tag's value */
    PyObject *state;
    PyObject *fast;     /* {name: (payload_type, read)}: read(payload) is the value */
    long max_depth;
} Dec;

static PyObject *untag(PyObject *obj, Dec *dec, long depth);

static PyObject *
untag_list(PyObject *obj, Dec *dec, long depth)
{
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(obj); i++) {
        PyObject *item = PyList_GET_ITEM(obj, i);
        if (!PyList_CheckExact(item) && !PyDict_CheckExact(item)) {
            continue;
        }
        Py_INCREF(item);
        PyObject *done = untag(item, dec, depth + 1);
        if (done == NULL) {
            Py_DECREF(item);
            return NULL;
        }
        if (done != item && i < PyList_GET_SIZE(obj)) {
            PyList_SetItem(obj, i, done); /* steals done */
        }
        else {
            Py_DECREF(done);
        }
        Py_DECREF(item);
    }
    return Py_NewRef(obj);
}

static PyObject *
build(PyObject *key, PyObject *payload, Dec *dec)
{
    /* a tag the registry lent a single call for, with a payload of its type */
    PyObject *fast = PyDict_GetItemWithError(dec->fast, key);
    if (fast != NULL && Py_TYPE(payload) == (PyTypeObject *)PyTuple_GET_ITEM(fast, 0)) {
        return PyObject_CallOneArg(PyTuple_GET_ITEM(fast, 1), payload);
    }
    if (fast == NULL && PyErr_Occurred()) {
        return NULL;
    }
    return PyObject_CallFunctionObjArgs(dec->build, key, payload, dec->state, NULL);
}

static PyObject *
untag_dict(PyObject *obj, Dec *dec, long depth)
{
    Py_ssize_t pos = 0;
    PyObject *key, *value;
    if (PyDict_GET_SIZE(obj) == 1) {
        PyDict_Next(obj, &pos, &key, &value);
        if (is_tag_key(key)) {
            Py_INCREF(key);
            PyObject *payload;
            if (PyList_CheckExact(value) || PyDict_CheckExact(value)) {
                payload = untag(value, dec, depth + 1);
            }
            else {
                payload = Py_NewRef(value);
            }
            PyObject *out = NULL;
            if (payload != NULL) {
                out = build(key, payload, dec);
                Py_DECREF(payload);
            }
            Py_DECREF(key);
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
        PyObject *done = untag(value, dec, depth + 1);
        /* replacing the value of a key already there keeps PyDict_Next valid */
        int failed = done == NULL || (done != value && PyDict_SetItem(obj, key, done) < 0);
        Py_DECREF(key);
        Py_DECREF(value);
        Py_XDECREF(done);
        if (failed) {
            return NULL;
        }
    }
    return Py_NewRef(obj);
}

static PyObject *
untag(PyObject *obj, Dec *dec, long depth)
{
    if (depth > dec->max_depth) {
        PyErr_SetString(DepthError, "nesting deeper than max_depth");
        return NULL;
    }
    if (Py_EnterRecursiveCall(" in kombu_dash._speedups.untag")) {
        return NULL;
    }
    PyObject *out = PyList_CheckExact(obj) ? untag_list(obj, dec, depth)
                                           : untag_dict(obj, dec, depth);
    Py_LeaveRecursiveCall();
    return out;
}

static PyObject *
py_untag(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 5 || !PyDict_CheckExact(args[4])) {
        PyErr_SetString(PyExc_TypeError, "untag(obj, build, state, max_depth, fast: dict)");
        return NULL;
    }
    Dec dec = {args[1], args[2], args[4], PyLong_AsLong(args[3])};
    if (dec.max_depth == -1 && PyErr_Occurred()) {
        return NULL;
    }
    PyObject *obj = args[0];
    if (!PyList_CheckExact(obj) && !PyDict_CheckExact(obj)) {
        return Py_NewRef(obj);
    }
    return untag(obj, &dec, 1);
}

/* ----------------------------------------------------------------- module */

static PyMethodDef methods[] = {
    {"to_wire", (PyCFunction)(void (*)(void))py_to_wire, METH_FASTCALL,
     "to_wire(obj, tagger, max_depth, fast): obj as plain JSON data, typed values tagged."},
    {"untag", (PyCFunction)(void (*)(void))py_untag, METH_FASTCALL,
     "untag(obj, build, state, max_depth, fast): parsed JSON, its tags built, in place."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "kombu_dash._speedups",
    "The codec's two tree walks in C (optional; the pure-Python walks are the reference).",
    -1, methods,
};

PyMODINIT_FUNC
PyInit__speedups(void)
{
    PyObject *m = PyModule_Create(&module);
    if (m == NULL) {
        return NULL;
    }
    DepthError = PyErr_NewException("kombu_dash._speedups.DepthError", PyExc_ValueError, NULL);
    if (DepthError == NULL || PyModule_AddObjectRef(m, "DepthError", DepthError) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
