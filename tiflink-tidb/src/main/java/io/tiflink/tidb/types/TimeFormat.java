package io.tiflink.tidb.types;

import java.time.Duration;
import java.time.LocalDateTime;

/** MySQL's text forms of DATETIME and TIME values, as TiDB prints and parses them. */
public final class TimeFormat {
    private TimeFormat() {}

    /** {@code yyyy-MM-dd HH:mm:ss[.ffffff]} with {@code fsp} fraction digits. */
    public static String datetime(LocalDateTime t, int fsp) {
        String s =
                String.format(
                        "%04d-%02d-%02d %02d:%02d:%02d",
                        t.getYear(),
                        t.getMonthValue(),
                        t.getDayOfMonth(),
                        t.getHour(),
                        t.getMinute(),
                        t.getSecond());
        return s + fraction(t.getNano() / 1000, fsp);
    }

    /** {@code [-]HH:mm:ss[.ffffff]}, hours up to 838. */
    public static String duration(Duration d, int fsp) {
        boolean negative = d.isNegative();
        long nanos = Math.abs(d.toNanos());
        long micros = nanos / 1000;
        long seconds = micros / 1_000_000;
        String s =
                String.format(
                        "%s%02d:%02d:%02d",
                        negative ? "-" : "", seconds / 3600, (seconds / 60) % 60, seconds % 60);
        return s + fraction((int) (micros % 1_000_000), fsp);
    }

    private static String fraction(int micros, int fsp) {
        if (fsp <= 0) {
            return "";
        }
        return "." + String.format("%06d", micros).substring(0, Math.min(fsp, 6));
    }

    /** Parses {@code [-]H:mm:ss[.f]} into a duration. */
    public static Duration parseDuration(String text) {
        String s = text.trim();
        boolean negative = s.startsWith("-");
        if (negative) {
            s = s.substring(1);
        }
        String[] parts = s.split(":");
        if (parts.length != 3) {
            throw new IllegalArgumentException("invalid TIME value '" + text + "'");
        }
        long hours = Long.parseLong(parts[0]);
        long minutes = Long.parseLong(parts[1]);
        String[] sec = parts[2].split("\\.");
        long seconds = Long.parseLong(sec[0]);
        long nanos = 0;
        if (sec.length > 1) {
            String f = (sec[1] + "000000000").substring(0, 9);
            nanos = Long.parseLong(f);
        }
        Duration d =
                Duration.ofHours(hours).plusMinutes(minutes).plusSeconds(seconds).plusNanos(nanos);
        return negative ? d.negated() : d;
    }

    /** Parses {@code yyyy-MM-dd[ HH:mm:ss[.f]]}. */
    public static LocalDateTime parseDatetime(String text) {
        String s = text.trim().replace('T', ' ');
        String date = s;
        String time = "00:00:00";
        int sp = s.indexOf(' ');
        if (sp > 0) {
            date = s.substring(0, sp);
            time = s.substring(sp + 1).trim();
        }
        String[] d = date.split("-");
        if (d.length != 3) {
            throw new IllegalArgumentException("invalid date/time value '" + text + "'");
        }
        Duration t = parseDuration(time);
        return LocalDateTime.of(
                        Integer.parseInt(d[0]),
                        Integer.parseInt(d[1]),
                        Integer.parseInt(d[2]),
                        0,
                        0)
                .plus(t);
    }
}
