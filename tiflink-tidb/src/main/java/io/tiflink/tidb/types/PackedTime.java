package io.tiflink.tidb.types;

import io.tiflink.tidb.codec.CodecException;

import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;

/**
 * TiDB's packed form of DATE, DATETIME and TIMESTAMP ({@code Time.ToPackedUint}): {@code ((ymd <<
 * 17 | hms) << 24) | microseconds}, with {@code ymd = (year * 13 + month) << 5 | day} and {@code
 * hms = hour << 12 | minute << 6 | second}. The zero date packs to 0.
 */
public final class PackedTime {
    private PackedTime() {}

    public static long pack(LocalDateTime t) {
        long ymd = ((long) (t.getYear() * 13 + t.getMonthValue()) << 5) | t.getDayOfMonth();
        long hms = ((long) t.getHour() << 12) | ((long) t.getMinute() << 6) | t.getSecond();
        return ((ymd << 17 | hms) << 24) | (t.getNano() / 1000);
    }

    public static long pack(LocalDate d) {
        return pack(d.atStartOfDay());
    }

    /**
     * The date and time of a packed value, or null for MySQL's zero date ({@code 0000-00-00}),
     * which Java's time types cannot hold.
     *
     * @throws CodecException for a date with a zero month or day other than the zero date
     */
    public static LocalDateTime unpack(long packed) {
        if (packed == 0) {
            return null;
        }
        long ymdhms = packed >>> 24;
        int micro = (int) (packed & ((1 << 24) - 1));
        long ymd = ymdhms >>> 17;
        int day = (int) (ymd & 0x1F);
        long ym = ymd >>> 5;
        int year = (int) (ym / 13);
        int month = (int) (ym % 13);
        long hms = ymdhms & ((1 << 17) - 1);
        int second = (int) (hms & 0x3F);
        int minute = (int) ((hms >>> 6) & 0x3F);
        int hour = (int) (hms >>> 12);
        if (year == 0 && month == 0 && day == 0) {
            return null;
        }
        try {
            return LocalDateTime.of(
                    LocalDate.of(year, month, day),
                    LocalTime.of(hour, minute, second, micro * 1000));
        } catch (RuntimeException e) {
            throw new CodecException(
                    String.format(
                            "packed time %d is %04d-%02d-%02d %02d:%02d:%02d.%06d, which Java cannot"
                                    + " represent",
                            packed, year, month, day, hour, minute, second, micro),
                    e);
        }
    }
}
