package io.tiflink.tidb.types;

import io.tiflink.tidb.codec.BytesReader;
import io.tiflink.tidb.codec.BytesWriter;
import io.tiflink.tidb.codec.CodecException;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.RoundingMode;

/**
 * MySQL's binary decimal format ({@code MyDecimal.ToBin}): integer and fraction digits in groups of
 * nine, each group four bytes big endian, a partial leading or trailing group in as few bytes as
 * its digits need; negative numbers invert every byte, and the first byte's top bit is flipped so
 * the bytes sort as the numbers do.
 */
public final class MyDecimal {
    /** The most digits a decimal column holds. */
    public static final int MAX_PRECISION = 65;

    public static final int MAX_SCALE = 30;
    private static final int DIGITS_PER_WORD = 9;
    private static final int[] DIG2BYTES = {0, 1, 1, 2, 2, 3, 3, 4, 4, 4};
    private static final int[] POW10 = {
        1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000, 1000000000
    };

    private MyDecimal() {}

    /** The size of {@code ToBin} for this precision and scale. */
    public static int binSize(int precision, int frac) {
        int digitsInt = precision - frac;
        return digitsInt / DIGITS_PER_WORD * 4
                + DIG2BYTES[digitsInt % DIGITS_PER_WORD]
                + frac / DIGITS_PER_WORD * 4
                + DIG2BYTES[frac % DIGITS_PER_WORD];
    }

    /**
     * Writes {@code precision}, {@code frac} and the binary form ({@code codec.EncodeDecimal}); the
     * value is rounded half up to {@code frac} digits, as TiDB casts it to the column's type.
     *
     * @throws CodecException if the integer part needs more than {@code precision - frac} digits
     */
    public static void write(BytesWriter out, BigDecimal value, int precision, int frac) {
        checkPrecision(precision, frac);
        out.write(precision);
        out.write(frac);
        writeBin(out, value, precision, frac);
    }

    public static void writeBin(BytesWriter out, BigDecimal value, int precision, int frac) {
        BigDecimal scaled = value.setScale(frac, RoundingMode.HALF_UP);
        boolean negative = scaled.signum() < 0;
        BigInteger unscaled = scaled.unscaledValue().abs();
        String digits = unscaled.toString();
        // Left-pad so there are at least frac + 1 digits (a zero integer part).
        int intLen = Math.max(digits.length() - frac, 0);
        int digitsInt = precision - frac;
        if (intLen > digitsInt) {
            throw new CodecException(
                    "decimal "
                            + value.toPlainString()
                            + " does not fit DECIMAL("
                            + precision
                            + ","
                            + frac
                            + ")");
        }
        String intDigits = intLen == 0 ? "" : digits.substring(0, intLen);
        String fracDigits =
                frac == 0
                        ? ""
                        : "0".repeat(Math.max(frac - digits.length(), 0))
                                + digits.substring(Math.max(digits.length() - frac, 0));
        int mask = negative ? 0xFF : 0;
        int start = out.length();
        // Integer part, right-aligned to digitsInt digits.
        String padded = "0".repeat(digitsInt - intDigits.length()) + intDigits;
        int lead = digitsInt % DIGITS_PER_WORD;
        int pos = 0;
        if (lead > 0) {
            writeGroup(out, Integer.parseInt(padded.substring(0, lead)), DIG2BYTES[lead], mask);
            pos = lead;
        }
        for (; pos < digitsInt; pos += DIGITS_PER_WORD) {
            writeGroup(
                    out, Integer.parseInt(padded.substring(pos, pos + DIGITS_PER_WORD)), 4, mask);
        }
        int fracPos = 0;
        for (; fracPos + DIGITS_PER_WORD <= frac; fracPos += DIGITS_PER_WORD) {
            writeGroup(
                    out,
                    Integer.parseInt(fracDigits.substring(fracPos, fracPos + DIGITS_PER_WORD)),
                    4,
                    mask);
        }
        int trail = frac - fracPos;
        if (trail > 0) {
            writeGroup(
                    out, Integer.parseInt(fracDigits.substring(fracPos)), DIG2BYTES[trail], mask);
        }
        if (out.length() == start) {
            throw new CodecException("DECIMAL(" + precision + "," + frac + ") has no digits");
        }
        // Flip the sign bit of the first byte (written already XOR-ed with the mask).
        out.put(start, out.get(start) ^ 0x80);
    }

    private static void writeGroup(BytesWriter out, int v, int size, int mask) {
        for (int i = size - 1; i >= 0; i--) {
            out.write(((v >>> (8 * i)) & 0xFF) ^ mask);
        }
    }

    /** Reads {@code precision}, {@code frac} and the binary form. */
    public static BigDecimal read(BytesReader in) {
        int precision = in.readUnsignedByte();
        int frac = in.readUnsignedByte();
        checkPrecision(precision, frac);
        return readBin(in, precision, frac);
    }

    public static BigDecimal readBin(BytesReader in, int precision, int frac) {
        int size = binSize(precision, frac);
        byte[] b = in.read(size);
        boolean negative = (b[0] & 0x80) == 0;
        b[0] ^= (byte) 0x80;
        int mask = negative ? 0xFF : 0;
        int digitsInt = precision - frac;
        StringBuilder sb = new StringBuilder(precision + 2);
        int p = 0;
        int lead = digitsInt % DIGITS_PER_WORD;
        if (lead > 0) {
            p = appendGroup(sb, b, p, DIG2BYTES[lead], lead, mask);
        }
        for (int i = lead; i < digitsInt; i += DIGITS_PER_WORD) {
            p = appendGroup(sb, b, p, 4, DIGITS_PER_WORD, mask);
        }
        if (sb.length() == 0) {
            sb.append('0');
        }
        if (frac > 0) {
            sb.append('.');
            int f = 0;
            for (; f + DIGITS_PER_WORD <= frac; f += DIGITS_PER_WORD) {
                p = appendGroup(sb, b, p, 4, DIGITS_PER_WORD, mask);
            }
            int trail = frac - f;
            if (trail > 0) {
                appendGroup(sb, b, p, DIG2BYTES[trail], trail, mask);
            }
        }
        BigDecimal v = new BigDecimal(sb.toString());
        return negative ? v.negate() : v;
    }

    private static int appendGroup(
            StringBuilder sb, byte[] b, int p, int size, int digits, int mask) {
        int v = 0;
        for (int i = 0; i < size; i++) {
            v = (v << 8) | ((b[p + i] & 0xFF) ^ mask);
        }
        if (v >= POW10[digits]) {
            throw new CodecException("invalid decimal group " + v + " for " + digits + " digits");
        }
        String s = Integer.toString(v);
        for (int i = s.length(); i < digits; i++) {
            sb.append('0');
        }
        sb.append(s);
        return p + size;
    }

    private static void checkPrecision(int precision, int frac) {
        if (precision < 1
                || precision > MAX_PRECISION
                || frac < 0
                || frac > MAX_SCALE
                || frac > precision) {
            throw new CodecException("invalid DECIMAL(" + precision + "," + frac + ")");
        }
    }
}
