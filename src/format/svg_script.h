/*
 * svg_script.h — the CSS and JavaScript that svg.c embeds in every flame graph (svg_script.c
 * documents the contract between the two). Internal to src/format.
 */
#ifndef EMBER_FORMAT_SVG_SCRIPT_H
#define EMBER_FORMAT_SVG_SCRIPT_H

extern const char svg_style_css[];
extern const char svg_script_js[];

#endif
