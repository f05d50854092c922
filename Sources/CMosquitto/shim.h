#ifndef WEIR_CMOSQUITTO_SHIM_H
#define WEIR_CMOSQUITTO_SHIM_H
#include <mosquitto.h>
#include <mqtt_protocol.h>
#endif
