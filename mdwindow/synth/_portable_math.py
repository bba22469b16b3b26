"""Exponentials and logarithms that give the same bits on every CPU.

The generator turns floating-point values into integers (nanoseconds, lot
counts, prices in ticks), so a result one unit in the last place away can
move a tick by a nanosecond. numpy's ``exp``, ``log``, ``power``, ``sinh``
and ``arcsinh`` run SIMD kernels chosen for the CPU at import (AVX2, AVX-512,
...), and glibc's libm picks FMA variants the same way; they do not round
alike. IEEE basic operations (``+ - * /``, ``sqrt``, ``rint``, ``ldexp``,
``frexp``, comparisons) are correctly rounded, hence identical everywhere, so
the functions here use nothing else: fdlibm's algorithms (range reduction by
ln 2 with a Cody-Waite split, then a fixed polynomial), evaluated one numpy
operation at a time so no compiler can fuse a multiply and an add. Scalars go
through :mod:`decimal`, which is software arithmetic.

Both agree with the correctly rounded result to within about one unit in
the last place; what matters more here is that they agree with themselves.
"""

from __future__ import annotations

from decimal import Context, Decimal

import numpy as np

__all__ = ["exp", "integer_powers", "log", "log_ratio"]

# Elements per pass: a dozen scratch arrays of this size stay in the L2
# cache, which makes the two dozen passes of exp cheap on ten million rows.
_CHUNK = 1 << 14

# ln 2 split so that k * _LN2_HI is exact for every |k| < 2**20 (the high
# part has 32 significant bits) and _LN2_LO carries the rest (fdlibm).
_LN2_HI = 6.93147180369123816490e-01
_LN2_LO = 1.90821492927058770002e-10
_INV_LN2 = 1.44269504088896338700e00
# fdlibm e_exp.c: exp(r) = 1 + 2r / (2 - R(r)) with this minimax R on
# |r| <= ln(2) / 2, error below one ulp.
_EXP_P1 = 1.66666666666666019037e-01
_EXP_P2 = -2.77777777770155933842e-03
_EXP_P3 = 6.61375632143793436117e-05
_EXP_P4 = -1.65339022054652515390e-06
_EXP_P5 = 4.13813679705723846039e-08
# Beyond these the result is 0 or inf anyway; clipping keeps k an int32.
_EXP_LOWEST = -746.0
_EXP_HIGHEST = 710.0
# fdlibm e_log.c: minimax coefficients of log(1 + f) in s = f / (2 + f).
_LOG_LG = (
    6.666666666666735130e-01,
    3.999999999940941908e-01,
    2.857142874366239149e-01,
    2.222219843214978396e-01,
    1.818357216161805012e-01,
    1.531383769920937332e-01,
    1.479819860511658591e-01,
)
_SQRT_HALF = 0.7071067811865476
# Enough digits that rounding the decimal result to a double is the only
# rounding that matters.
_DECIMAL = Context(prec=40)


def exp(
    values: np.ndarray,
    *,
    scale: float = 1.0,
    shift: float = 0.0,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """``exp(shift + scale * values)`` elementwise, identical on every CPU.

    Parameters
    ----------
    values : numpy.ndarray
        Finite float32 or float64 values, any shape.
    scale, shift : float, default 1.0 and 0.0
        Applied before the exponential, chunk by chunk, so that a lognormal
        draw needs no full-size temporary for its argument.
    out : numpy.ndarray, optional
        Where to write the result (it may be ``values`` itself). A float64
        array gets the result; an integer array gets it rounded to the
        nearest integer (half to even), which saves a full-size float
        temporary when whole nanoseconds are wanted.

    Returns
    -------
    numpy.ndarray
        ``out``, or a new float64 array of the shape of ``values``.

    Examples
    --------
    >>> exp(np.array([0.0, 1.0, -1.0])).round(12).tolist()
    [1.0, 2.718281828459, 0.367879441171]
    >>> exp(np.array([1.4, 2.6]), out=np.empty(2, dtype=np.int64)).tolist()
    [4, 13]
    >>> exp(np.array([0.0, 2.0]), scale=0.5, shift=np.log(3.0)).round(12).tolist()
    [3.0, 8.154845485377]
    """
    values = np.asarray(values)
    if out is None:
        out = np.empty(values.shape, dtype=np.float64)
    elif out.shape != values.shape or not out.flags.c_contiguous:
        # A strided out would be written through a flattened copy and lost.
        raise ValueError(
            f"out must be a C-contiguous array of shape {values.shape}, got shape "
            f"{out.shape} (contiguous: {out.flags.c_contiguous})."
        )
    flat_values, flat_out = values.reshape(-1), out.reshape(-1)
    size = min(len(flat_values), _CHUNK)
    x, k, hi, lo, t, c = (np.empty(size, dtype=np.float64) for _ in range(6))
    exponent = np.empty(size, dtype=np.int32)
    for begin in range(0, len(flat_values), _CHUNK):
        end = min(begin + _CHUNK, len(flat_values))
        width = end - begin
        x_, k_, hi_, lo_, t_, c_ = (buffer[:width] for buffer in (x, k, hi, lo, t, c))
        np.multiply(flat_values[begin:end], scale, out=x_)
        x_ += shift
        np.clip(x_, _EXP_LOWEST, _EXP_HIGHEST, out=x_)
        # x = k ln2 + r with |r| <= ln(2) / 2, r carried as hi - lo.
        np.multiply(x_, _INV_LN2, out=k_)
        np.rint(k_, out=k_)
        np.multiply(k_, _LN2_HI, out=hi_)
        np.subtract(x_, hi_, out=hi_)
        np.multiply(k_, _LN2_LO, out=lo_)
        np.subtract(hi_, lo_, out=x_)  # r
        np.multiply(x_, x_, out=t_)
        np.multiply(t_, _EXP_P5, out=c_)
        for coefficient in (_EXP_P4, _EXP_P3, _EXP_P2, _EXP_P1):
            c_ += coefficient
            c_ *= t_
        np.subtract(x_, c_, out=c_)
        # exp(r) = 1 - ((lo - r c / (2 - c)) - hi), fdlibm's order of operations.
        np.multiply(x_, c_, out=t_)
        np.subtract(2.0, c_, out=c_)
        t_ /= c_
        np.subtract(lo_, t_, out=lo_)
        lo_ -= hi_
        np.subtract(1.0, lo_, out=lo_)
        exponent_ = exponent[:width]
        np.copyto(exponent_, k_, casting="unsafe")
        if flat_out.dtype == np.float64:
            np.ldexp(lo_, exponent_, out=flat_out[begin:end])
        else:
            np.ldexp(lo_, exponent_, out=lo_)
            np.rint(lo_, out=lo_)
            np.copyto(flat_out[begin:end], lo_, casting="unsafe")
    return out


def log(values: np.ndarray) -> np.ndarray:
    """Natural logarithm of positive finite values, identical on every CPU.

    Meant for small tables (weights, thresholds); it is not chunked.

    Parameters
    ----------
    values : numpy.ndarray
        Positive, finite values.

    Returns
    -------
    numpy.ndarray
        float64 logarithms.

    Examples
    --------
    >>> log(np.array([1.0, 2.0, 10.0])).tolist()
    [0.0, 0.6931471805599453, 2.302585092994046]
    """
    mantissa, exponent = np.frexp(np.asarray(values, dtype=np.float64))
    # values = 2**k * (1 + f) with 1 + f in [sqrt(2)/2, sqrt(2)): both
    # doublings and f = m - 1 are exact.
    low = mantissa < _SQRT_HALF
    mantissa[low] *= 2.0
    exponent[low] -= 1
    k = exponent.astype(np.float64)
    f = mantissa - 1.0
    s = f / (2.0 + f)
    z = s * s
    w = z * z
    lg1, lg2, lg3, lg4, lg5, lg6, lg7 = _LOG_LG
    even = w * (lg2 + w * (lg4 + w * lg6))
    odd = z * (lg1 + w * (lg3 + w * (lg5 + w * lg7)))
    r = odd + even
    half_f_squared = 0.5 * f * f
    return k * _LN2_HI - ((half_f_squared - (s * (half_f_squared + r) + k * _LN2_LO)) - f)


def integer_powers(count: int, exponent: float) -> np.ndarray:
    """``k ** exponent`` for ``k = 1, ..., count``, identical on every CPU.

    Parameters
    ----------
    count : int
        How many integers, from 1.
    exponent : float
        Finite power.

    Returns
    -------
    numpy.ndarray
        float64 array of length ``count``; the first value is exactly 1.

    Examples
    --------
    >>> integer_powers(4, -1.0).round(15).tolist()
    [1.0, 0.5, 0.333333333333333, 0.25]
    """
    return exp(log(np.arange(1, count + 1, dtype=np.float64)), scale=exponent)


def log_ratio(numerator: float, denominator: float = 1.0) -> float:
    """``ln(numerator / denominator)`` of positive scalars, rounded once, via :mod:`decimal`.

    Parameters
    ----------
    numerator, denominator : float
        Positive and finite; the denominator defaults to 1.

    Returns
    -------
    float
        The double nearest the logarithm of the exact quotient.

    Examples
    --------
    >>> log_ratio(2.0)
    0.6931471805599453
    >>> log_ratio(510.0, 0.01) == log_ratio(51_000.0)
    True
    """
    # Decimal(float) is the float's exact binary value, and the context is
    # this module's own, so neither the caller's decimal settings nor the
    # CPU can change the result.
    quotient = _DECIMAL.divide(Decimal(numerator), Decimal(denominator))
    return float(quotient.ln(_DECIMAL))
