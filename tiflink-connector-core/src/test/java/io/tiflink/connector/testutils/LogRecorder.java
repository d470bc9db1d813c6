package io.tiflink.connector.testutils;

import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.LogEvent;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.appender.AbstractAppender;
import org.apache.logging.log4j.core.config.LoggerConfig;
import org.apache.logging.log4j.core.config.Property;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.stream.Collectors;

/**
 * Records, during each test, what the loggers under a name log at INFO and above (as the tests'
 * log4j2 configuration lets through), as "LEVEL logger: message" lines.
 */
public final class LogRecorder implements BeforeEachCallback, AfterEachCallback {
    private final String loggerName;
    private final Queue<LogEvent> events = new ConcurrentLinkedQueue<>();
    private Recorder recorder;

    public LogRecorder(String loggerName) {
        this.loggerName = loggerName;
    }

    @Override
    public void beforeEach(ExtensionContext context) {
        events.clear();
        recorder = new Recorder();
        recorder.start();
        LoggerContext ctx = (LoggerContext) LogManager.getContext(false);
        ctx.getConfiguration().getLoggerConfig(loggerName).addAppender(recorder, Level.INFO, null);
        ctx.updateLoggers();
    }

    @Override
    public void afterEach(ExtensionContext context) {
        LoggerContext ctx = (LoggerContext) LogManager.getContext(false);
        LoggerConfig config = ctx.getConfiguration().getLoggerConfig(loggerName);
        config.removeAppender(recorder.getName());
        ctx.updateLoggers();
        recorder.stop();
    }

    /** The lines logged at {@code level} or more severe so far. */
    public List<String> atLeast(Level level) {
        return events.stream()
                .filter(e -> e.getLevel().isMoreSpecificThan(level))
                .map(
                        e ->
                                e.getLevel()
                                        + " "
                                        + e.getLoggerName()
                                        + ": "
                                        + e.getMessage().getFormattedMessage())
                .collect(Collectors.toCollection(ArrayList::new));
    }

    private final class Recorder extends AbstractAppender {
        Recorder() {
            super("recorder-" + loggerName, null, null, true, Property.EMPTY_ARRAY);
        }

        @Override
        public void append(LogEvent event) {
            if (event.getLoggerName().startsWith(loggerName)) {
                events.add(event.toImmutable());
            }
        }
    }
}
