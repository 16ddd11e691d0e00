package org.cloe4j.graph;

import org.cloe4j.tensor.Shape;

/** A tensor-valued node of a graph under construction: a named input, a parameter, or an op's output. */
public final class Value {
    /** What produces the value. */
    public enum Kind { INPUT, CONSTANT, PARAMETER, OP }

    final int id;
    final Kind kind;
    final Shape shape;
    final String name;
    final Parameter parameter;
    final Node node;
    /** The host values of a constant (uploaded by each run). */
    float[] constant;

    Value(int id, Kind kind, Shape shape, String name, Parameter parameter, Node node) {
        this.id = id;
        this.kind = kind;
        this.shape = shape;
        this.name = name;
        this.parameter = parameter;
        this.node = node;
    }

    public Shape shape() {
        return shape;
    }

    public Kind kind() {
        return kind;
    }

    public String name() {
        return name;
    }

    @Override
    public String toString() {
        return (name != null ? name : kind.name().toLowerCase() + id) + shape;
    }

    /** An op applied to inputs, producing one value. */
    static final class Node {
        private final int index;
        private final Op op;
        private final Value[] inputs;
        private Value output;

        Node(int index, Op op, Value[] inputs) {
            this.index = index;
            this.op = op;
            this.inputs = inputs;
        }

        int index() {
            return index;
        }

        Op op() {
            return op;
        }

        Value[] inputs() {
            return inputs;
        }

        Value output() {
            return output;
        }

        void output(Value v) {
            this.output = v;
        }
    }
}
